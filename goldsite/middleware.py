"""Project middleware: htmx-aware sign-in redirects and the Content-Security-Policy header."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect


class HtmxLoginRedirectMiddleware:
    """An htmx request that `login_required` sends to sign in reloads the whole page there (`HX-Redirect`).

    htmx follows a 302 itself and would swap the login form into the polled or swapped fragment. Instead the
    browser goes to the login page, and back afterwards to the page the person was on (`HX-Current-URL`, when it
    is on this site) rather than to the fragment's URL. Place after django_htmx's HtmxMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not _is_login_redirect(response):
            return response
        # The same URL answers a 302 or an HX-Redirect depending on HX-Request.
        patch_vary_headers(response, ("HX-Request",))
        htmx = getattr(request, "htmx", None)
        if not htmx:
            return response
        page = htmx.current_url_abs_path or request.get_full_path()
        client_redirect = HttpResponseClientRedirect(redirect_to_login(page).url)
        patch_vary_headers(client_redirect, ("HX-Request",))
        return client_redirect


def _is_login_redirect(response: HttpResponse) -> bool:
    if response.status_code != 302:
        return False
    login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
    return urlsplit(response.get("Location", "")).path == login_path


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY ({directive: [sources]}) on every response; nothing when it is empty.

    A response that set its own policy keeps it. (Django 6 has this built in; on 5.2 it is these few lines.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = "; ".join(
                " ".join([directive, *sources]) for directive, sources in policy.items()
            )
        return response
