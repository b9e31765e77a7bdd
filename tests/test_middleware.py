"""Project middleware (goldsite/middleware.py): sign-in redirects that htmx can follow."""

import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def htmx_get(client, url: str, current_url: str = "http://testserver/training/"):
    return client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current_url)


@pytest.mark.parametrize(
    ("url", "current"),
    [
        ("/training/runs/1/", "/training/"),  # the run status a training page polls every 2 s
        ("/training/?page=2", "/training/"),  # the runs table refreshed when a run ends
        ("/?range=1Y", "/?range=3M"),  # a dashboard region swapped in place
        ("/models/", "/models/"),
    ],
)
def test_an_anonymous_htmx_request_reloads_the_whole_page_at_sign_in(client, url, current):
    """Not a 302 that htmx follows and swaps the login form into the fragment: HX-Redirect, back to the page."""
    response = htmx_get(client, url, current_url=f"http://testserver{current}")

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{LOGIN}?next={current.replace('?', '%3F').replace('=', '%3D')}"
    assert response.content == b""
    assert "HX-Request" in response["Vary"]


def test_the_next_page_never_points_at_another_site(client):
    response = htmx_get(client, "/training/runs/1/", current_url="https://evil.example.com/phish/")

    assert response["HX-Redirect"] == f"{LOGIN}?next=/training/runs/1/"


def test_a_plain_request_still_gets_the_redirect(client):
    response = client.get("/training/runs/1/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/training/runs/1/"
    assert "HX-Redirect" not in response
    assert "HX-Request" in response["Vary"]


def test_a_signed_in_htmx_request_is_left_alone(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())

    response = htmx_get(client, "/?range=1Y", current_url="http://testserver/")

    assert response.status_code == 200
    assert "HX-Redirect" not in response
