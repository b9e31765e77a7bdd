"""A password change revokes the user's API token: whoever learnt the old password may have taken the token too.

Every way Django changes a password counts (`set_password` then `save`): the admin's own password page, the
admin setting another user's password, `manage.py changepassword`. Saves that leave the password alone keep the
token, and so does the silent rehash of a password on sign-in.
"""

import pytest
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from forecasts.services.api_tokens import api_token_get_or_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD = "correct horse battery staple"  # UserFactory's password
NEW = "a brand new passphrase 42"


@pytest.fixture
def user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def token(user) -> str:
    token, _ = api_token_get_or_create(user=user)
    return token.key


def token_works(key: str) -> bool:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/models/").status_code == 200


def test_changing_ones_password_in_the_admin_revokes_the_token(client, user, token):
    assert token_works(token)
    client.force_login(user)

    response = client.post("/admin/password_change/", {"old_password": OLD, "new_password1": NEW, "new_password2": NEW})

    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()
    assert not token_works(token)


def test_an_administrator_setting_a_users_password_revokes_that_users_token(client, user):
    other = UserFactory()
    other_token, _ = api_token_get_or_create(user=other)
    own_token, _ = api_token_get_or_create(user=user)
    client.force_login(user)

    response = client.post(
        f"/admin/auth/user/{other.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert not token_works(other_token.key)
    assert token_works(own_token.key)


def test_manage_py_changepassword_revokes_the_token(user, token, monkeypatch):
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW)

    call_command("changepassword", user.username, stdout=None)

    assert not token_works(token)


def test_saving_a_user_without_a_new_password_keeps_the_token(user, token):
    user.first_name = "Ada"
    user.save()  # an edit in the admin
    user.save(update_fields=["last_login"])  # what signing in saves

    assert token_works(token)


def test_the_rehash_of_a_password_at_sign_in_keeps_the_token(user, token, settings):
    # A stronger hasher becomes the default: the next sign-in rehashes the stored MD5 password and saves it.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    before = user.password

    assert user.check_password(OLD)

    user.refresh_from_db()
    assert user.password != before and user.password.startswith("scrypt$")
    assert token_works(token)
