from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

api_v1 = [
    path("", include("catalog.urls")),
    path("", include("ledger.urls")),
    path("", include("projections.urls")),
    path("", include("history.urls")),
    path("", include("anchors.urls")),
    path("", include("reports.urls")),
    path("", include("forecasts.urls")),
    path("", include("valuation.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/api/v1/docs/", permanent=False)),
    path("admin/", admin.site.urls),
    path("scan/", include("scan.urls")),
    path("api/v1/", include(api_v1)),
    path("api-auth/", include("rest_framework.urls")),
]

# Under /api/ the API's JSON error body, elsewhere Django's own pages (common/api/errors.py).
handler400 = "common.api.errors.bad_request"
handler403 = "common.api.errors.permission_denied"
handler404 = "common.api.errors.page_not_found"
handler500 = "common.api.errors.server_error"
