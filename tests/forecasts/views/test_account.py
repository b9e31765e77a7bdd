"""Signing in and out, the page shell, and the API token page."""

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import StaffUserFactory, UserFactory

PASSWORD = "correct horse battery staple"  # UserFactory's password

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


# --- Signing in ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["forecasts:dashboard", "forecasts:api-token", "forecasts:api-token-regenerate"])
def test_anonymous_visitor_is_sent_to_sign_in_with_next(client, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('forecasts:login')}?next={url}"


def test_sign_in_page_renders_the_form(client):
    response = client.get(reverse("forecasts:login"), {"next": reverse("forecasts:api-token")})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert f'name="next" value="{reverse("forecasts:api-token")}"' in content
    assert "Please sign in to see that page." in content


def test_wrong_password_shows_a_clear_message(client, user):
    response = client.post(reverse("forecasts:login"), {"username": user.username, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_redirects_to_the_page_asked_for(client, user):
    next_url = reverse("forecasts:api-token")

    response = client.post(
        reverse("forecasts:login"), {"username": user.username, "password": PASSWORD, "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == next_url


def test_sign_in_without_next_goes_to_the_dashboard(client, user):
    response = client.post(reverse("forecasts:login"), {"username": user.username, "password": PASSWORD})

    assert response["Location"] == reverse("forecasts:dashboard")


def test_sign_in_ignores_a_next_on_another_site(client, user):
    response = client.post(
        reverse("forecasts:login"), {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("forecasts:dashboard")


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2, AXES_LOCKOUT_TEMPLATE="registration/locked_out.html")
def test_too_many_wrong_passwords_show_the_lockout_page(client, user):
    for _ in range(2):
        response = client.post(reverse("forecasts:login"), {"username": user.username, "password": "wrong"})

    assert response.status_code == 429
    content = response.content.decode()
    assert "Too many sign-in attempts" in content
    assert "Try again later" in content


def test_sign_out_is_a_post_and_returns_to_sign_in(signed_in):
    response = signed_in.post(reverse("forecasts:logout"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("forecasts:login")
    assert "You are signed out." in response.content.decode()
    assert "_auth_user_id" not in signed_in.session


# --- The page shell -----------------------------------------------------------------------------------


def test_shell_has_landmarks_navigation_and_htmx(signed_in):
    response = signed_in.get(reverse("forecasts:dashboard"))

    content = response.content.decode()
    assert 'class="skip-link" href="#main"' in content
    assert '<main id="main"' in content
    assert '<nav class="site-nav" aria-label="Main">' in content
    assert f'href="{reverse("forecasts:dashboard")}" aria-current="page">Dashboard' in content
    for url_name in ["training:models", "training:training", "forecasts:api-token", "goldsite:api-docs"]:
        assert f'href="{reverse(url_name)}"' in content
    assert f'action="{reverse("forecasts:logout")}"' in content
    assert "django_htmx/htmx-2.min.js" in content
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert "js/goldsite.js" in content
    assert "vendor/plotly.min.js" in content  # the dashboard draws charts
    # Only pages with charts load Plotly.
    assert "vendor/plotly.min.js" not in signed_in.get(reverse("forecasts:api-token")).content.decode()


def test_admin_link_is_for_staff_only(client, user):
    client.force_login(user)
    assert reverse("admin:index") not in client.get(reverse("forecasts:dashboard")).content.decode()

    client.force_login(StaffUserFactory())
    assert reverse("admin:index") in client.get(reverse("forecasts:dashboard")).content.decode()


def test_sign_in_page_shows_no_navigation(client):
    content = client.get(reverse("forecasts:login")).content.decode()

    assert "site-nav" not in content


# --- API token ------------------------------------------------------------------------------------------


def test_token_page_get_shows_no_token_and_creates_none(signed_in, user):
    response = signed_in.get(reverse("forecasts:api-token"))

    assert response.status_code == 200
    assert "You have no token yet" in response.content.decode()
    assert not Token.objects.filter(user=user).exists()
    assert "no-store" in response["Cache-Control"]


def test_token_page_post_creates_a_token(signed_in, user):
    response = signed_in.post(reverse("forecasts:api-token"), follow=True)

    token = Token.objects.get(user=user)
    content = response.content.decode()
    assert token.key in content
    assert "Your API token is ready." in content


def test_token_page_post_keeps_an_existing_token(signed_in, user):
    token = Token.objects.create(user=user)

    signed_in.post(reverse("forecasts:api-token"))

    assert Token.objects.get(user=user).key == token.key


def test_token_page_shows_a_curl_example_with_the_token(signed_in, user):
    token = Token.objects.create(user=user)

    response = signed_in.get(reverse("forecasts:api-token"))

    content = response.content.decode()
    expected = f"curl -H &quot;Authorization: Token {token.key}&quot; http://testserver/api/forecasts/latest/"
    assert expected in content
    assert 'data-copy-target="#curl-example"' in content


def test_regenerate_asks_for_confirmation_first(signed_in, user):
    token = Token.objects.create(user=user)

    response = signed_in.get(reverse("forecasts:api-token-regenerate"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Regenerate your API token?" in content
    assert f'href="{reverse("forecasts:api-token")}" aria-current="page">API token' in content
    assert Token.objects.get(user=user).key == token.key


def test_regenerate_replaces_the_token(signed_in, user):
    old = Token.objects.create(user=user)

    response = signed_in.post(reverse("forecasts:api-token-regenerate"), follow=True)

    new = Token.objects.get(user=user)
    assert new.key != old.key
    content = response.content.decode()
    assert new.key in content
    assert old.key not in content


def test_regenerate_page_without_a_token_goes_back_to_the_token_page(signed_in, user):
    response = signed_in.get(reverse("forecasts:api-token-regenerate"))

    assert response["Location"] == reverse("forecasts:api-token")
    assert not Token.objects.filter(user=user).exists()


def test_token_pages_refuse_other_methods(signed_in):
    assert signed_in.delete(reverse("forecasts:api-token")).status_code == 405
