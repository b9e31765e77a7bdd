"""The administrator login: the one place `bootstrap` and the container's `migrate` (`manage.py ensure_login`)
make it."""

import os
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from forecasts.exceptions import ForecastError


class LoginSettingsIncomplete(ForecastError):
    """DJANGO_SUPERUSER_USERNAME is set without DJANGO_SUPERUSER_PASSWORD."""


def superuser_from_environment() -> tuple[str, bool] | None:
    """Create the DJANGO_SUPERUSER_* account unless it exists: (username, created), or None when no username is
    set. Raises LoginSettingsIncomplete when the username is set without a password."""
    username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "")
    if not username:
        return None
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        return username, False
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
    if not password:
        raise LoginSettingsIncomplete("DJANGO_SUPERUSER_USERNAME is set but DJANGO_SUPERUSER_PASSWORD is not.")
    users.objects.create_superuser(username, os.environ.get("DJANGO_SUPERUSER_EMAIL", ""), password)
    return username, True


@dataclass(frozen=True)
class Login:
    """How someone can sign in: `how` is "environment" (the DJANGO_SUPERUSER_* account; `created` says whether it
    was made now), "existing" (a superuser was there already) or "admin" (made now; `password` is its generated
    password, None when it got an unusable one)."""

    username: str
    how: str
    created: bool = False
    password: str | None = None


def login_ensure(*, generate_password: bool) -> Login:
    """Make sure someone can sign in: the DJANGO_SUPERUSER_* account when its username is set, else any existing
    superuser, else a new `admin` with a generated password (returned, never logged) or, without
    `generate_password` (nowhere private to show one), an unusable password. Raises LoginSettingsIncomplete."""
    from_environment = superuser_from_environment()
    if from_environment is not None:
        username, created = from_environment
        return Login(username=username, how="environment", created=created)
    users = get_user_model()
    existing = users.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return Login(username=existing.get_username(), how="existing")
    password = secrets.token_urlsafe(12) if generate_password else None
    users.objects.create_superuser("admin", "", password)  # None: an unusable password, nothing secret to leak
    return Login(username="admin", how="admin", created=True, password=password)
