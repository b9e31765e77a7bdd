"""The administrator login from the environment: the one place `bootstrap` and the container's `migrate` make it."""

import os

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
