"""Every error under /api/ is JSON in the domain errors' shape, `{"detail", "code"}`, whoever raises it.

DRF's own errors, the request-size limits Django enforces, the URL resolver's 404, django-axes' lockout and
unhandled exceptions (DEBUG=False, as in production) all answer `application/json`; pages outside /api/ keep
Django's HTML error pages.
"""

import json

import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.test import RequestFactory, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from goldsite import error_views
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's
TOKEN_URL = "/api/auth/token/"
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def api() -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}")
    return client


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"detail", "code"}
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- Request size limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS) ------------------------


@pytest.mark.parametrize("url", [TOKEN_URL, "/api/predict/"])
def test_a_5_mb_body_is_413(api, url):
    body = json.dumps({"username": "x" * FIVE_MB, "password": "y", "predict_tomorrow": True})

    response = api.post(url, body, content_type="application/json")

    detail = assert_json_error(response, 413, "request_too_large")["detail"]
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in detail


@pytest.mark.parametrize("url", [TOKEN_URL, "/api/predict/"])
def test_2000_form_fields_are_400(api, url):
    fields = "&".join(f"field{n}=1" for n in range(2000))

    response = api.post(url, fields, content_type="application/x-www-form-urlencoded")

    detail = assert_json_error(response, 400, "too_many_fields")["detail"]
    assert f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}" in detail


def test_a_request_error_raised_outside_an_api_view_is_json_too():
    """handler400 answers for errors raised before a view runs (in a middleware, reading the body)."""
    request = RequestFactory().post("/api/predict/")

    too_big = error_views.bad_request(request, RequestDataTooBig("Request body exceeded the limit."))
    too_many = error_views.bad_request(request, TooManyFieldsSent("Too many fields."))

    assert_json_error(too_big, 413, "request_too_large")
    assert_json_error(too_many, 400, "too_many_fields")


def test_a_host_not_allowed_is_a_json_400_without_echoing_it(api):
    response = api.get("/api/prices/", HTTP_HOST="evil.example.com")

    body = assert_json_error(response, 400, "bad_request")
    assert "evil.example.com" not in body["detail"]


# --- Not found ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/models/abc/", "/api/no-such-endpoint/", "/api/"])
def test_a_url_no_endpoint_matches_is_a_json_404(api, url):
    assert_json_error(api.get(url), 404, "not_found")


def test_a_missing_object_is_a_json_404(api):
    assert_json_error(api.get("/api/models/999999/"), 404, "not_found")


# --- Authentication, throttling and the sign-in lockout ---------------------------------------------------------


def test_drf_errors_carry_a_code_too(monkeypatch):
    anonymous = APIClient()
    assert_json_error(anonymous.get("/api/prices/"), 401, "not_authenticated")
    assert_json_error(anonymous.delete(TOKEN_URL), 405, "method_not_allowed")

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "1000/min"})
    anonymous.post(TOKEN_URL, {}, format="json")
    assert_json_error(anonymous.post(TOKEN_URL, {}, format="json"), 429, "throttled")


def test_field_errors_keep_their_per_field_messages(api):
    response = api.post("/api/predict/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"predict_tomorrow": ["This field is required."]}


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2)
def test_the_sign_in_lockout_is_a_json_429_with_retry_after():
    user = UserFactory()
    anonymous = APIClient()
    for _ in range(2):
        anonymous.post(TOKEN_URL, {"username": user.username, "password": "wrong"}, format="json")

    response = anonymous.post(TOKEN_URL, {"username": user.username, "password": PASSWORD}, format="json")

    detail = assert_json_error(response, 429, "locked_out")["detail"]
    assert "15 minutes" in detail  # AXES_COOLOFF_HOURS=0.25
    assert int(response["Retry-After"]) == 15 * 60
    assert not Token.objects.exists()


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2)
def test_the_sign_in_page_lockout_stays_an_html_page(client):
    user = UserFactory()
    for _ in range(2):
        client.post("/accounts/login/", {"username": user.username, "password": "wrong"})

    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "Too many sign-in attempts" in response.content.decode()


# --- Server errors (DEBUG=False, as in production) --------------------------------------------------------------


@pytest.fixture
def broken_selector(monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr("forecasts.apis.prices.price_bars_list", explode)
    monkeypatch.setattr("forecasts.views.dashboard.model_version_champion", explode)


def test_an_unhandled_exception_in_an_api_view_is_a_json_500(api, broken_selector):
    assert settings.DEBUG is False

    response = api.get("/api/prices/")

    body = assert_json_error(response, 500, "server_error")
    assert "something nobody expected" not in body["detail"]


def test_pages_outside_the_api_keep_the_html_error_pages(broken_selector):
    client = APIClient(raise_request_exception=False)
    client.force_login(UserFactory())

    not_found = client.get("/no-such-page/")
    server_error = client.get("/")

    assert (not_found.status_code, server_error.status_code) == (404, 500)
    assert not_found["Content-Type"].startswith("text/html")
    assert server_error["Content-Type"].startswith("text/html")
