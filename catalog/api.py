"""Catalog and locations: list, retrieve, create and update (never delete: deactivate instead)."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from common.api.schema import error_response

from . import filters, serializers
from .lots import lots_with_on_hand
from .models import Category, Location, Product, Warehouse


class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Records are deactivated, never deleted through the API: the ledger refers to them."""


def _catalog_writes(serializer, *, refers: bool = True, frozen: str | None = None):
    """The schema of a record's writes: a natural key already taken is a 409 ``already_exists``;
    with ``refers``, a related record the body names that is not there is a 404; with ``frozen``,
    changing that field once movements refer to the record is a 409 ``history_protected``."""

    def responses(success: int, *conflicts: str) -> dict:
        taken = "A SKU, code or name already taken" + ("" if len(conflicts) == 1 else f"; or movements refer to it and its `{frozen}` cannot change")
        answers = {success: serializer, 409: error_response(*conflicts, description=f"{taken}.")}
        if refers:
            answers[404] = error_response("not_found", description="A record the body names is not there (`errors` names the field).")
        return answers

    changes = ("already_exists", "history_protected") if frozen else ("already_exists",)
    return extend_schema_view(
        create=extend_schema(responses=responses(201, "already_exists")),
        update=extend_schema(responses=responses(200, *changes)),
        partial_update=extend_schema(responses=responses(200, *changes)),
    )


@_catalog_writes(serializers.CategorySerializer)
class CategoryViewSet(CatalogViewSet):
    queryset = Category.objects.all()
    serializer_class = serializers.CategorySerializer
    filterset_class = filters.CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


@_catalog_writes(serializers.ProductSerializer, frozen="unit")
class ProductViewSet(CatalogViewSet):
    queryset = Product.objects.all()
    serializer_class = serializers.ProductSerializer
    filterset_class = filters.ProductFilter
    search_fields = ["sku", "name", "barcode", "specification"]
    ordering_fields = ["sku", "name", "unit_price", "created_at", "updated_at", "id"]


@_catalog_writes(serializers.WarehouseSerializer, refers=False)
class WarehouseViewSet(CatalogViewSet):
    queryset = Warehouse.objects.all()
    serializer_class = serializers.WarehouseSerializer
    filterset_class = filters.WarehouseFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "id"]


@_catalog_writes(serializers.LocationSerializer, frozen="warehouse")
class LocationViewSet(CatalogViewSet):
    queryset = Location.objects.select_related("warehouse")
    serializer_class = serializers.LocationSerializer
    filterset_class = filters.LocationFilter
    search_fields = ["code", "name", "warehouse__code"]
    ordering_fields = ["code", "warehouse__code", "id"]


@extend_schema_view(
    create=extend_schema(responses={
        201: serializers.LotSerializer,
        404: error_response("not_found", description="The product named is not there (`errors.product`)."),
        409: error_response("already_exists", description="The product has a lot of this code already."),
    }),
    partial_update=extend_schema(request=serializers.LotCorrectionSerializer, responses={200: serializers.LotSerializer}),
)
class LotViewSet(CatalogViewSet):
    """Lots of lot-tracked products, each with its stock now. Receipts make lots as they name them;
    one may also be made beforehand (a clerk or manager), and its dates corrected (a manager)."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = lots_with_on_hand()
    serializer_class = serializers.LotSerializer
    filterset_class = filters.LotFilter
    search_fields = ["code", "product__sku"]
    ordering_fields = ["expires_on", "code", "created_at", "on_hand", "id"]

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)  # with its on hand

    def perform_update(self, serializer):
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)
