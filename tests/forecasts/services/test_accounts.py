"""Making sure someone can sign in: the DJANGO_SUPERUSER_* account, else an existing superuser, else `admin`."""

import pytest
from django.contrib.auth import get_user_model

from forecasts.services.accounts import LoginSettingsIncomplete, login_ensure
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_login_in_the_environment(monkeypatch):
    for name in ("DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_PASSWORD", "DJANGO_SUPERUSER_EMAIL"):
        monkeypatch.delenv(name, raising=False)


def test_the_environments_account_is_created_once(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long passphrase")

    first, second = login_ensure(generate_password=True), login_ensure(generate_password=True)

    assert (first.how, first.username, first.created, first.password) == ("environment", "ops", True, None)
    assert (second.how, second.created) == ("environment", False)
    assert get_user_model().objects.get(username="ops").check_password("a long passphrase")


def test_a_username_without_a_password_is_refused_and_nothing_is_created(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")

    with pytest.raises(LoginSettingsIncomplete, match="DJANGO_SUPERUSER_PASSWORD"):
        login_ensure(generate_password=True)
    assert not get_user_model().objects.exists()


def test_an_existing_superuser_is_enough():
    StaffUserFactory(username="root", is_superuser=True)

    login = login_ensure(generate_password=True)

    assert (login.how, login.username, login.password) == ("existing", "root", None)
    assert get_user_model().objects.count() == 1


def test_otherwise_admin_gets_a_generated_password_or_an_unusable_one():
    login = login_ensure(generate_password=True)
    admin = get_user_model().objects.get(username="admin")
    assert login.how == "admin" and admin.is_superuser and admin.check_password(login.password)

    admin.delete()
    login = login_ensure(generate_password=False)
    assert login.password is None
    assert not get_user_model().objects.get(username="admin").has_usable_password()
