"""Production settings: fail fast on missing secrets, secure by default, everything else from the environment."""

from django.core.exceptions import ImproperlyConfigured

from goldsite.settings.base import *  # noqa: F403
from goldsite.settings.base import env


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production (see .env.example).")
    return value


SECRET_KEY = _required("SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS").split(",") if host.strip()]
DEBUG = env.bool("DEBUG", default=False)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = CSP_POLICY  # noqa: F405 - always, whatever DEBUG says

# Any client can send X-Forwarded-Proto and X-Forwarded-Host: they are trusted only from reverse proxies that set
# them, so trusting one needs API_NUM_PROXIES (the proxies in front, as for the throttle's client address) > 0.
_TRUSTED_PROXIES = REST_FRAMEWORK["NUM_PROXIES"]  # noqa: F405


def _only_behind_a_proxy(name: str, trusted: bool) -> bool:
    if trusted and _TRUSTED_PROXIES < 1:
        raise ImproperlyConfigured(
            f"{name}=true needs API_NUM_PROXIES set to the number of reverse proxies in front of the site (at least "
            "1): without a proxy that sets the header, any client could forge it (see .env.example)."
        )
    return trusted


if _only_behind_a_proxy("USE_X_FORWARDED_PROTO", env.bool("USE_X_FORWARDED_PROTO", default=False)):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = _only_behind_a_proxy("USE_X_FORWARDED_HOST", env.bool("USE_X_FORWARDED_HOST", default=False))

# Persistent database connections (one per gunicorn worker or Celery process, checked before reuse) instead of a
# new connection per request, which costs more than the request itself on a small server.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# The container HEALTHCHECK probes /health/ over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# HSTS preload is a lasting commitment to the browsers' preload list: opt in with SECURE_HSTS_PRELOAD=true.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
