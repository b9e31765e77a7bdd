"""Production settings fail fast without their secrets and pass Django's deployment checklist with them."""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "goldsite.example.com"


@pytest.mark.parametrize(
    ("missing", "present"),
    [("SECRET_KEY", {"ALLOWED_HOSTS": HOST}), ("ALLOWED_HOSTS", {"SECRET_KEY": secrets.token_urlsafe(50)})],
)
def test_import_fails_naming_the_missing_variable(clean_env, missing, present):
    # Set to empty rather than left out, so a developer's .env (read with overwrite=False) cannot fill it in.
    result = subprocess.run(
        [sys.executable, "-c", "import goldsite.settings.production"],
        cwd=ROOT,
        env=clean_env(**present, **{missing: ""}),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


def test_check_deploy_passes_without_warnings(clean_env):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="goldsite.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS=HOST,
        ),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_health_endpoint_is_exempt_from_the_https_redirect(clean_env):
    """The container HEALTHCHECK calls /health/ over plain HTTP on localhost; a 301 to HTTPS would fail it."""
    code = (
        "import django; django.setup();"
        "from django.http import HttpResponse; from django.middleware.security import SecurityMiddleware;"
        "from django.test import RequestFactory;"
        "middleware = SecurityMiddleware(lambda request: HttpResponse());"
        f"request = lambda path: RequestFactory().get(path, HTTP_HOST={HOST!r});"
        "print(middleware.process_request(request('/health/')) is None,"
        " middleware.process_request(request('/')) is not None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="goldsite.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS=HOST,
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"], "expected /health/ exempt and / redirected: " + result.stdout
