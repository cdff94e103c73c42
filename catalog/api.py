"""Catalog and locations: list, retrieve, create and update (never delete: deactivate instead)."""
from rest_framework import mixins, viewsets

from . import filters, serializers
from .models import Category, Location, Product, Warehouse


class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Records are deactivated, never deleted through the API: the ledger refers to them."""


class CategoryViewSet(CatalogViewSet):
    queryset = Category.objects.all()
    serializer_class = serializers.CategorySerializer
    filterset_class = filters.CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class ProductViewSet(CatalogViewSet):
    queryset = Product.objects.all()
    serializer_class = serializers.ProductSerializer
    filterset_class = filters.ProductFilter
    search_fields = ["sku", "name", "barcode", "specification"]
    ordering_fields = ["sku", "name", "unit_price", "created_at", "updated_at", "id"]


class WarehouseViewSet(CatalogViewSet):
    queryset = Warehouse.objects.all()
    serializer_class = serializers.WarehouseSerializer
    filterset_class = filters.WarehouseFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "id"]


class LocationViewSet(CatalogViewSet):
    queryset = Location.objects.select_related("warehouse")
    serializer_class = serializers.LocationSerializer
    filterset_class = filters.LocationFilter
    search_fields = ["code", "name", "warehouse__code"]
    ordering_fields = ["code", "warehouse__code", "id"]
