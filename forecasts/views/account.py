"""The signed-in user's own pages: signing out and the REST API token.

Signing in is Django's `LoginView` (mounted in `forecasts/urls.py`); django-axes answers a locked-out
sign-in with `registration/locked_out.html`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from forecasts.services import api_tokens


def _curl_example(request: HttpRequest, token: Token) -> str:
    url = request.build_absolute_uri(reverse("forecasts-api:forecast-latest"))
    return f'curl -H "Authorization: Token {token.key}" {url}'


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    """GET shows the token (creating nothing); POST creates it when the user has none."""
    if request.method == "POST":
        _token, created = api_tokens.api_token_get_or_create(user=request.user)
        if created:
            messages.success(request, "Your API token is ready.")
        else:
            messages.info(request, "You already have an API token; it is unchanged.")
        return redirect("forecasts:api-token")

    token = api_tokens.api_token_get(user=request.user)
    context = {"token": token, "curl_example": _curl_example(request, token) if token else ""}
    return render(request, "account/api_token.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token_regenerate(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST replaces the token."""
    if request.method == "POST":
        api_tokens.api_token_regenerate(user=request.user)
        messages.success(request, "Your new API token is ready. The old one no longer works.")
        return redirect("forecasts:api-token")

    if api_tokens.api_token_get(user=request.user) is None:
        return redirect("forecasts:api-token")
    return render(request, "account/api_token_regenerate.html", {"nav_section": "forecasts:api-token"})


class SignOutView(LogoutView):
    """Django's LogoutView (POST only) that also tells the user it worked."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response
