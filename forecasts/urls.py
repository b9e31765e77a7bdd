from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import TemplateView

from forecasts.views import account


def _placeholder(title: str):
    """TEMPORARY: a signed-in "on its way" page, so the navigation resolves before the real page exists."""
    return login_required(
        TemplateView.as_view(template_name="account/placeholder.html", extra_context={"title": title})
    )


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", account.SignOutView.as_view(), name="logout"),
    path("account/api-token/", account.api_token, name="api-token"),
    path("account/api-token/regenerate/", account.api_token_regenerate, name="api-token-regenerate"),
    # TEMPORARY placeholders: delete each line when the real page lands. This module is included before
    # training.urls, so a leftover line would shadow the real /models/ or /training/ page.
    path("", _placeholder("Dashboard"), name="dashboard"),
    path("models/", _placeholder("Models"), name="models"),
    path("training/", _placeholder("Training"), name="training"),
]
