from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("forecasts/runs", api.ForecastRunViewSet, basename="forecast-run")

urlpatterns = [
    path("forecasts/orders/", api.OrdersView.as_view(), name="forecast-orders"),
    path("forecasts/demand/", api.DemandView.as_view(), name="forecast-demand"),
    re_path(r"^forecasts/products/(?P<product>[0-9]+)/$", api.ProductForecastView.as_view(), name="product-forecast"),
    *router.urls,
]
