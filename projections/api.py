"""Stock, read from the projections (eventually consistent: see /stock/status/ for the lag),
and replay of stock as of a past moment, read from the ledger itself."""
from dataclasses import asdict
from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasPermission
from common.api.schema import error_response

from . import filters, selectors, serializers


class ProductLocationStockViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand per product and location (non-zero rows unless ``include_zero=true``)."""

    queryset = selectors.stock_by_product_location()
    serializer_class = serializers.ProductLocationStockSerializer
    filterset_class = filters.ProductLocationStockFilter
    ordering_fields = ["quantity", "product__sku", "location__code"]
    search_fields = ["product__sku", "product__name", "location__code"]


class LotStockViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand per product, location and lot (products tracked by lot only), first-expiring first:
    the order FEFO takes them in."""

    queryset = selectors.stock_by_lot()
    serializer_class = serializers.LotStockSerializer
    filterset_class = filters.LotStockFilter
    ordering_fields = ["quantity", "product__sku", "location__code", "lot__code", "lot__expires_on"]
    search_fields = ["product__sku", "product__name", "location__code", "lot__code"]


class ProductStockViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand per product over all locations, with its value at average cost and at price."""

    queryset = selectors.stock_by_product()
    serializer_class = serializers.ProductStockSerializer
    filterset_class = filters.ProductStockFilter
    ordering_fields = ["quantity", "product__sku", "value_at_price", "value_at_cost"]
    search_fields = ["product__sku", "product__name"]


class LocationStockViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand per location over all products, valued at price and at average cost."""

    queryset = selectors.stock_by_location()
    serializer_class = serializers.LocationStockSerializer
    filterset_class = filters.LocationStockFilter
    ordering_fields = ["quantity", "location__code", "value_at_price", "value_at_cost"]
    search_fields = ["location__code", "location__warehouse__code"]


class StockAsOfView(APIView):
    """Stock of a product, at one location or at each, replayed from the ledger: as recorded up to
    a ledger position (``position``) or a time (``recorded_at``), about a business time (``at``);
    optionally with the movements behind it."""

    permission_classes = [HasPermission.for_perms("ledger.view_movement")]

    @extend_schema(
        parameters=[serializers.AsOfQuerySerializer],
        responses={
            200: serializers.AsOfSerializer,
            404: error_response(
                "not_found", description="No such product, no such location, or no such lot of the product (`errors` names it).",
            ),
        },
    )
    def get(self, request):
        query = serializers.AsOfQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        stock = selectors.stock_as_of(
            product=params["product"], location=params.get("location"), lot=params.get("lot"), at=params.get("at"),
            position=params.get("position"), recorded_at=params.get("recorded_at"),
        )
        body = {
            "product": stock.product,
            "location": stock.location,
            "at": stock.at,
            "recorded_at": stock.recorded_at,
            "position": stock.position,
            "lot": stock.lot,
            "quantity": stock.quantity,
            "balances": [{"location": loc, "quantity": qty} for loc, qty in stock.balances.items()],
            "lots": [{"location": loc, "lot": lot, "quantity": qty} for (loc, lot), qty in stock.lot_balances.items()],
            "movements_url": self._movements_url(request, stock),
        }
        if params["movements"]:
            movements = stock.movements()
            body["movements_count"] = movements.count()
            body["movements"] = movements.select_related("reversed_by")[: params["limit"]]
        return Response(serializers.AsOfSerializer(body).data)

    @staticmethod
    def _movements_url(request, stock) -> str:
        filters = {"product": stock.product, "position_until": stock.position}
        if stock.location is not None:
            filters["location"] = stock.location
        if stock.lot is not None:
            filters["lot"] = stock.lot
        if stock.at is not None:
            filters["occurred_until"] = stock.at.isoformat()
        return request.build_absolute_uri(f"{reverse('movement-list')}?{urlencode(filters)}")


class ProjectionStatusView(APIView):
    """Each projection's checkpoint and how far it lags behind the ledger's head."""

    permission_classes = [HasPermission.for_perms("projections.view_checkpoint")]

    @extend_schema(responses=serializers.ProjectionStatusSerializer(many=True))
    def get(self, request):
        statuses = [asdict(status) for status in selectors.projections_status()]
        return Response(serializers.ProjectionStatusSerializer(statuses, many=True).data)
