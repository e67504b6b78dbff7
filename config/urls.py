from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import views as core_views

api_v1 = [
    path("", include("core.api_urls")),
    path("", include("reviews.api_urls")),
    path("", include("screening.api_urls")),
    path("", include("extraction.api_urls")),
    path("", include("synthesis.api_urls")),
    path("", include("grading.api_urls")),
    path("", include("grading.api_urls_certainty")),
    path("", include("exports.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("core.urls")),
    path("reviews/", include("reviews.urls")),
    path("reviews/", include("screening.urls")),
    path("reviews/", include("extraction.urls")),
    path("reviews/", include("synthesis.urls")),
    path("reviews/", include("grading.urls")),
    path("reviews/", include("grading.urls_certainty")),
    path("reviews/", include("exports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

__all__ = ["urlpatterns", "login_not_required"]
