from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from goldsite.health import health

# The project's own URLs, namespaced like the apps' so every name in the project reads "<namespace>:<name>":
# "goldsite:health", "goldsite:api-schema", "goldsite:api-docs" (the admin keeps Django's "admin:").
project_patterns = [
    path("health/", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's settings come as a script from this URL (?script), not inline: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="goldsite:api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include((project_patterns, "goldsite"))),
    path("api/", include("forecasts.api_urls")),
    path("api/", include("training.api_urls")),
    path("", include("forecasts.urls")),
    path("", include("training.urls")),
]

# JSON errors under /api/, Django's HTML pages elsewhere (goldsite/error_views.py).
handler400 = "goldsite.error_views.bad_request"
handler403 = "goldsite.error_views.permission_denied"
handler404 = "goldsite.error_views.page_not_found"
handler500 = "goldsite.error_views.server_error"
