"""Production settings fail fast without their secrets and pass Django's deployment checklist with them."""

import json
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


PROXY_SETTINGS = (
    "import json; from django.conf import settings;"
    "print(json.dumps([settings.SECURE_PROXY_SSL_HEADER, settings.USE_X_FORWARDED_HOST,"
    " settings.REST_FRAMEWORK['NUM_PROXIES']]))"
)


def _production(clean_env, code: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="goldsite.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS=HOST,
            **variables,
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("variable", ["USE_X_FORWARDED_PROTO", "USE_X_FORWARDED_HOST"])
def test_forwarded_headers_are_refused_without_a_trusted_proxy(clean_env, variable):
    """Any client can send X-Forwarded-Proto/Host: trusting them needs a proxy in front that sets them."""
    result = _production(clean_env, "", **{variable: "true"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}=true needs API_NUM_PROXIES" in result.stderr


def test_forwarded_headers_are_trusted_behind_a_configured_proxy(clean_env):
    result = _production(
        clean_env, PROXY_SETTINGS, USE_X_FORWARDED_PROTO="true", USE_X_FORWARDED_HOST="true", API_NUM_PROXIES="1"
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [["HTTP_X_FORWARDED_PROTO", "https"], True, 1]


def test_by_default_no_forwarded_header_is_trusted(clean_env):
    result = _production(clean_env, PROXY_SETTINGS)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [None, False, 0]


def test_production_sends_the_content_security_policy(clean_env):
    code = (
        "from django.test import Client; from goldsite.settings.base import CSP_POLICY;"
        "from django.conf import settings;"
        f"response = Client().get('/accounts/login/', HTTP_HOST={HOST!r}, secure=True);"
        "print(settings.CONTENT_SECURITY_POLICY == CSP_POLICY, response['Content-Security-Policy'])"
    )
    result = _production(clean_env, code, DATABASE_URL="sqlite://:memory:")

    assert result.returncode == 0, result.stderr
    same, header = result.stdout.strip().split(" ", 1)
    assert same == "True"
    assert "script-src 'self'" in header
