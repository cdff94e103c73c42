from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("stock/by-product", api.ProductStockViewSet, basename="stock-by-product")
router.register("stock/by-location", api.LocationStockViewSet, basename="stock-by-location")
router.register("stock/by-lot", api.LotStockViewSet, basename="stock-by-lot")

urlpatterns = [
    path("stock/as-of/", api.StockAsOfView.as_view(), name="stock-as-of"),
    path("stock/status/", api.ProjectionStatusView.as_view(), name="stock-status"),
    *router.urls,
    path("stock/", api.ProductLocationStockViewSet.as_view({"get": "list"}), name="stock-list"),
]
