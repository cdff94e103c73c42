"""The valuation over HTTP: value on hand (now, as of a business time or a ledger position, by
product, category, warehouse or location), a product's cost layers, the cost entries (COGS per
movement), and how far the valuation has applied the ledger. Finance and managers read them."""
from dataclasses import asdict
from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasPermission
from catalog.models import Category, Product, Warehouse
from common.api.schema import error_response
from common.errors import RecordNotFound

from . import filters, selectors, serializers
from .models import CostEntry, ProductValuation

READ = HasPermission.for_perms("valuation.view_costentry")
NO_RECORD = "No {name} with id {id}."
_NOT_FOUND = error_response("not_found", description="No such product, warehouse or category (`errors` names it).")

_EXAMPLE = {
    "as_of": "2026-10-31T23:59:59.999999Z", "position": 18250, "group_by": "warehouse", "quantity": "1620.000", "value": "4211.7500",
    "lines": [
        {"warehouse": 1, "warehouse_code": "MAIN", "warehouse_name": "Main warehouse", "quantity": "1500.000", "value": "3900.0000"},
        {"warehouse": 2, "warehouse_code": "EAST", "warehouse_name": "East depot", "quantity": "120.000", "value": "311.7500"},
    ],
}
_LAYERS_EXAMPLE = {
    "product": 12, "sku": "BOLT-M8", "method": "fifo", "valued_method": "fifo", "quantity": "15.000", "value": "53.0000",
    "last_cost": "4.0000",
    "layers": [
        {"warehouse": 1, "warehouse_code": "MAIN", "seq": 1, "source": 101, "received_at": "2026-03-01T10:00:00Z",
         "unit_cost": "2.0000000000", "quantity": "1.000", "value": "2.0000"},
        {"warehouse": 1, "warehouse_code": "MAIN", "seq": 3, "source": 105, "received_at": "2026-03-05T10:00:00Z",
         "unit_cost": "4.0000000000", "quantity": "14.000", "value": "51.0000"},
    ],
}

_ENTRY_EXAMPLE = {
    "id": 44, "movement": 12, "product": 1, "warehouse": 1, "location": 1, "lot": None, "occurred_at": "2026-10-20T14:00:00Z",
    "flow": "issue", "reversal": False, "quantity": "-1200.000", "value": "-79.0000", "cogs": "79.0000", "unit_cost": "0.0658",
    "flagged": False,
}
_STATUS_EXAMPLE = {"position": 17, "head": 17, "behind": 0, "events_applied": 17, "updated_at": "2026-12-03T11:52:52.305957Z",
                   "rebuilt_at": None, "error": ""}


def _exists(model, name: str, pk: int | None) -> None:
    if pk is not None and not model.objects.filter(pk=pk).exists():
        raise RecordNotFound({name: [NO_RECORD.format(name=name, id=pk)]})


class ValuationView(APIView):
    """What the stock is worth, by FIFO or moving average per product, per warehouse: now, as of a
    business time (``as_of``) and/or as the ledger up to a position said (``position``); each line
    a product, category, warehouse or location (a location's value is its share, by quantity, of its
    warehouse's). Equal to a replay of the ledger."""

    permission_classes = [READ]

    @extend_schema(
        parameters=[serializers.ValuationQuerySerializer],
        responses={
            200: OpenApiResponse(serializers.ValuationSerializer, examples=[
                OpenApiExample("By warehouse at a month's end", _EXAMPLE, response_only=True, status_codes=["200"])]),
            404: _NOT_FOUND,
        },
    )
    def get(self, request):
        query = serializers.ValuationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        for model, name in ((Product, "product"), (Warehouse, "warehouse"), (Category, "category")):
            _exists(model, name, params.get(name))
        applied = selectors.valuation_status().position
        position = params.get("position")
        bound = position if position is not None and position < applied else None
        lines = selectors.valuation_on_hand(
            as_of=params.get("as_of"), position=bound, group_by=params["group_by"],
            product=params.get("product"), warehouse=params.get("warehouse"), category=params.get("category"),
        )
        body = {
            "as_of": params.get("as_of"), "position": applied if bound is None else bound, "group_by": params["group_by"],
            "quantity": sum((line["quantity"] for line in lines), Decimal(0)),
            "value": sum((line["value"] for line in lines), Decimal(0)),
            "lines": lines,
        }
        return Response(serializers.ValuationSerializer(body).data)


class ProductCostLayersView(APIView):
    """A product's remaining cost layers per warehouse (FIFO: one per receipt left, oldest first; an
    average: one pool per warehouse), its quantity, value and last known cost."""

    permission_classes = [READ]

    @extend_schema(
        responses={
            200: OpenApiResponse(serializers.ProductCostLayersSerializer, examples=[
                OpenApiExample("FIFO, two layers left", _LAYERS_EXAMPLE, response_only=True, status_codes=["200"])]),
            404: error_response("not_found", description="No such product."),
        },
    )
    def get(self, request, id: int):
        product = Product.objects.filter(pk=id).first()
        if product is None:
            raise RecordNotFound({"id": [NO_RECORD.format(name="product", id=id)]})
        valuation = ProductValuation.objects.filter(product_id=id).first()
        body = {
            "product": product.pk, "sku": product.sku, "method": product.valuation_method,
            "valued_method": valuation.method if valuation else None,
            "quantity": valuation.quantity if valuation else Decimal(0), "value": valuation.value if valuation else Decimal(0),
            "last_cost": valuation.last_cost if valuation else None,
            "layers": selectors.product_layers(product.pk),
        }
        return Response(serializers.ProductCostLayersSerializer(body).data)


@extend_schema(examples=[OpenApiExample("An issue by FIFO: 500 @ 0.06 and 700 @ 0.07", _ENTRY_EXAMPLE, response_only=True)])
class CostEntryList(generics.ListAPIView):
    """What each movement did to the value, per leg: quantity and value (signed), COGS of issues
    (negated by their reversals), the unit cost used, flagged when a receipt without a cost took the
    last known one. In business order."""

    permission_classes = [READ]
    queryset = CostEntry.objects.order_by("occurred_at", "movement_id", "id")
    serializer_class = serializers.CostEntrySerializer
    filterset_class = filters.CostEntryFilter
    ordering_fields = ["occurred_at", "movement", "value", "cogs"]


class ValuationStatusView(APIView):
    """How far the valuation has applied the ledger, and why its last catch-up failed, if it did."""

    permission_classes = [READ]

    @extend_schema(responses={200: OpenApiResponse(serializers.ValuationStatusSerializer, examples=[
        OpenApiExample("Caught up", _STATUS_EXAMPLE, response_only=True)])})
    def get(self, request):
        return Response(serializers.ValuationStatusSerializer(asdict(selectors.valuation_status())).data)
