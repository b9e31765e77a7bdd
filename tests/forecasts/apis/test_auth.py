"""POST /api/auth/token/: a username and password buy the user's API token; everything else needs one."""

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/auth/token/"
PASSWORD = "correct horse battery staple"


def test_valid_credentials_return_the_users_token(anonymous):
    user = UserFactory(username="ada")

    response = anonymous.post(URL, {"username": "ada", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}
    again = anonymous.post(URL, {"username": "ada", "password": PASSWORD}, format="json")
    assert again.json() == response.json()  # the same token, not a new one


def test_the_token_opens_the_api(anonymous):
    UserFactory(username="ada")
    token = anonymous.post(URL, {"username": "ada", "password": PASSWORD}, format="json").json()["token"]

    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert anonymous.get("/api/prices/").status_code == 200


def test_a_stale_token_header_does_not_block_signing_in(anonymous):
    UserFactory(username="ada")
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anonymous.post(URL, {"username": "ada", "password": PASSWORD}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"username": "ada", "password": "wrong"}, {"non_field_errors": ["Unable to sign in with those credentials."]}),
        (
            {"username": "nobody", "password": PASSWORD},
            {"non_field_errors": ["Unable to sign in with those credentials."]},
        ),
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
    ],
)
def test_bad_credentials_are_refused_with_field_messages(anonymous, payload, errors):
    UserFactory(username="ada")

    response = anonymous.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not Token.objects.exists()


def test_an_inactive_user_gets_no_token(anonymous):
    UserFactory(username="ada", is_active=False)
    response = anonymous.post(URL, {"username": "ada", "password": PASSWORD}, format="json")
    assert response.status_code == 400


def test_signing_in_is_throttled(anonymous, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    UserFactory(username="ada")

    codes = [anonymous.post(URL, {"username": "ada", "password": "wrong"}, format="json").status_code for _ in range(3)]

    assert codes == [400, 400, 429]


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2)
def test_repeated_wrong_passwords_lock_the_account_out(anonymous):
    UserFactory(username="ada")
    for _ in range(2):
        anonymous.post(URL, {"username": "ada", "password": "wrong"}, format="json")

    response = anonymous.post(URL, {"username": "ada", "password": PASSWORD}, format="json")

    assert response.status_code == 429  # django-axes' lockout, even with the right password
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/prices/",
        "/api/forecasts/",
        "/api/forecasts/latest/",
        "/api/accuracy/",
        "/api/models/",
        "/api/training-runs/",
    ],
)
def test_every_other_endpoint_needs_a_token_or_a_session(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_predicting_needs_a_token_too(anonymous):
    response = anonymous.post("/api/predict/", {"predict_tomorrow": True}, format="json")
    assert response.status_code == 401


def test_a_session_also_opens_the_api(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/api/prices/").status_code == 200
