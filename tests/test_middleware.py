"""Project middleware (goldsite/middleware.py): sign-in redirects that htmx can follow, the CSP header."""

import base64
import hashlib
import re
from html.parser import HTMLParser

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


# --- Content-Security-Policy ------------------------------------------------------------------------------------


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


class InlineCode(HTMLParser):
    """Script and style a strict CSP blocks: inline <script>/<style>, style="" and on*="" attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self._in_inline_script = True
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_every_response_carries_a_strict_policy(client):
    policy = directives(client.get("/accounts/login/")["Content-Security-Policy"])

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_the_only_inline_styles_allowed_are_the_ones_the_installed_plotly_injects():
    """Plotly adds <style> elements itself; the policy allows exactly those by hash (an upgrade changes them)."""
    from goldsite.settings.base import CSP_POLICY, PLOTLY_STYLE_HASHES
    from goldsite.staticfiles import PACKAGED_ASSETS, package_file

    bundle = package_file(*PACKAGED_ASSETS["vendor/plotly.min.js"]).read_text(encoding="utf-8")
    injected = [""] + re.findall(r"""createElement\("style"\);[^;]{0,200}?\.textContent='([^'\\]*)'""", bundle)

    assert len(injected) == 2, "the Plotly bundle injects other styles now: update PLOTLY_STYLE_HASHES"
    assert sorted(PLOTLY_STYLE_HASHES) == sorted(f"'sha256-{sha256_base64(css)}'" for css in injected)
    assert CSP_POLICY["style-src"] == ["'self'", *PLOTLY_STYLE_HASHES]


def sha256_base64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_without_a_policy_no_header_is_sent(client, settings):
    settings.CONTENT_SECURITY_POLICY = {}

    assert "Content-Security-Policy" not in client.get("/accounts/login/")


@pytest.fixture
def staff_client(client):
    from tests.factories import StaffUserFactory

    client.force_login(StaffUserFactory())
    return client


@pytest.mark.parametrize("url", ["/", "/?range=1Y", "/models/", "/training/", "/account/api-token/", "/api/docs/"])
def test_no_page_has_inline_script_or_style(staff_client, url):
    """What the policy would block: the pages put all their script and style in static files."""
    response = staff_client.get(url)

    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []


def test_the_sign_in_page_has_no_inline_script_or_style(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []


def test_swagger_ui_loads_its_settings_as_a_script_from_this_site(staff_client):
    page = staff_client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)

    assert any(src.startswith("/static/drf_spectacular_sidecar/") for src in scripts)
    init = next(src for src in scripts if src.startswith("/api/docs/"))
    response = staff_client.get(init.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()
