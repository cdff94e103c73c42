"""Forecasts over HTTP, for purchasing (finance and managers; auditors read them too): the runs,
what to order today by urgency, a product's forecast with its history (JSON, or its chart as
SVG), and a product's demand history by day or week, per warehouse or location."""
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.permissions import HasPermission
from common.api.schema import error_response, id_integer
from common.ids import MAX_ID
from reports.api import FormatNegotiation

from . import selectors, serializers
from .filters import OrdersFilter
from .renderers import SVGRenderer

READ = HasPermission.for_perms("forecasts.view_forecastrun", "forecasts.view_forecast")
ONE_WAREHOUSE = "The product is forecast at {count} warehouses; name one for its chart."
_NO_RUN = error_response("no_forecast_run", "not_found", description="No run yet, or no such run or product in it.")
_LINE = {
    "run": 3, "product": 12, "sku": "BOLT-M8", "name": "Hex bolt M8x40", "unit": "ea", "warehouse": 1,
    "warehouse_code": "MAIN", "method": "sba", "reason": "", "history_weeks": 52, "zero_weeks": 31, "rmsse": "0.5120",
    "baseline_rmsse": "0.7310", "bias": "0.0830", "backtest_windows": 12, "weekly_demand": "14.250", "lead_time_days": 7,
    "pack_size": "50.000", "on_hand": "9.000", "lead_time_demand": "14.250", "safety_stock": "21.000",
    "safety_stock_from": "empirical", "reorder_point": "35.250", "order_up_to": "49.500", "suggested_quantity": "50.000",
    "days_of_cover": "4.4", "stockout_on": "2026-12-06", "turnover": "3.1200", "days_of_inventory": "117.0",
}


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("id", id_integer(MAX_ID), OpenApiParameter.PATH, description="The run's id.")]),
)
class ForecastRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The forecasting runs, newest first: the nightly task's and ``forecast_run``'s."""

    queryset = selectors.runs_newest_first()
    serializer_class = serializers.ForecastRunSerializer
    permission_classes = [READ]
    filter_backends = []
    lookup_value_regex = "[0-9]+"


@extend_schema(
    responses={200: serializers.ForecastLineSerializer(many=True), 404: _NO_RUN},
    examples=[OpenApiExample("order today", _LINE, response_only=True)],
)
class OrdersView(generics.ListAPIView):
    """What to order today, by the latest run (or ``run``): every product and warehouse at or below
    its reorder point, most urgent first (the earliest expected stock-out; none expected last),
    with the quantity to order in whole packs, the days of cover, turnover and days of inventory."""

    serializer_class = serializers.ForecastLineSerializer
    permission_classes = [READ]
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrdersFilter

    def get_queryset(self):
        asked = self.request.query_params.get("run")  # then the filter picks the run (none there: an empty page)
        return selectors.to_order(run=None if asked else selectors.run_or_latest(None))


_RENDERERS = [JSONRenderer, SVGRenderer]


class ProductForecastView(generics.GenericAPIView):
    """A product's forecast at each warehouse in the latest run (or ``run``): the method chosen and
    its backtest, the suggestion, the weekly demand from the ledger up to the run's cut-off, the
    forecast per week with its band, and each backtest window's forecast beside what happened. As
    SVG (``?format=svg``): one warehouse's chart of the same."""

    permission_classes = [READ]
    renderer_classes = _RENDERERS
    content_negotiation_class = FormatNegotiation
    filter_backends = []
    pagination_class = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(response, "exception", False):  # an error is the JSON error body, whatever was asked
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter("product", id_integer(MAX_ID), OpenApiParameter.PATH, description="The product's id."),
            serializers.ProductForecastQuerySerializer,
            OpenApiParameter("format", {"type": "string", "enum": ["json", "svg"]}, OpenApiParameter.QUERY,
                             description="`json` (default) or `svg` (the chart); or ask with `Accept`: `image/svg+xml`."),
        ],
        responses={
            (200, "application/json"): serializers.ProductForecastSerializer,
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="One warehouse's chart."),
            (404, "application/json"): _NO_RUN,
        },
    )
    def get(self, request, product: str):
        query = serializers.ProductForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        answer = serializers.ProductForecastSerializer(selectors.product_forecast(product=int(product), **query.validated_data)).data
        if request.accepted_renderer.format != SVGRenderer.format:
            return Response(answer)
        if len(answer["lines"]) > 1:
            raise ValidationError({"warehouse": [ONE_WAREHOUSE.format(count=len(answer["lines"]))]})
        return Response(answer["lines"][0])


class DemandView(generics.GenericAPIView):
    """A product's demand history from the ledger, by day or week, per warehouse or per location:
    issues net of their reversals (a reversal counts at its issue's time); transfers and counts are
    not demand. Only periods with demand are listed."""

    permission_classes = [READ]
    filter_backends = []
    pagination_class = None

    @extend_schema(parameters=[serializers.DemandQuerySerializer], responses={200: serializers.DemandSerializer})
    def get(self, request):
        query = serializers.DemandQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        place = asked["by"]
        found = selectors.demand(
            before=timezone.now(), period=asked["period"], per_location=place == "location", product=asked["product"],
            warehouse=asked.get("warehouse"), location=asked.get("location"),
        )
        rows = sorted(({place: where, "period": day, "quantity": quantity}
                       for (_, where), periods in found.items() for day, quantity in periods.items()),
                      key=lambda row: (row["period"], row[place]))
        return Response(serializers.DemandSerializer(
            {"product": asked["product"], "period": asked["period"], "by": place, "rows": rows}).data)
