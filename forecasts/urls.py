from django.contrib.auth import views as auth_views
from django.urls import path

from forecasts.views import account, dashboard

app_name = "forecasts"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", account.SignOutView.as_view(), name="logout"),
    path("account/api-token/", account.api_token, name="api-token"),
    path("account/api-token/regenerate/", account.api_token_regenerate, name="api-token-regenerate"),
]
