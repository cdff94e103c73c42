"""The reports over HTTP: the stock report (JSON, CSV, XLSX), the stock-over-time chart (SVG, or
its data as JSON), the expiry report and a lot's trace (JSON, CSV). The format is chosen by ``?format=`` or the ``Accept`` header; an error is
always the one JSON error body, whatever format was asked for."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasPermission
from common.api.parsers import refuse_repeated
from common.api.schema import error_response, id_integer
from common.ids import MAX_ID

from . import serializers
from .chart import MAX_POINTS
from .expiry import expiry_report
from .renderers import XLSX, CSVRenderer, ExpiryCSVRenderer, SVGRenderer, TraceCSVRenderer, XLSXRenderer
from .selectors import Scope, stock_over_time, stock_report
from .trace import lot_trace

UNKNOWN_FORMAT = "Unknown format {format!r}; use one of {formats}."
MAX_XLSX_LINES = 25_000  # lines of one workbook: about 10 s to write here (a larger report is the CSV's or JSON's)
TOO_MANY_LINES = "The report has {lines:,} lines; an XLSX holds at most {limit:,}: narrow the scope or the period, or ask for CSV."
TOO_MANY_POINTS = "The stock changed {points:,} times in this period; a chart draws at most {limit:,}: choose a shorter period."
_NOT_FOUND = error_response("not_found", description="No such product, location or warehouse (`errors` names it).")


class FormatNegotiation(DefaultContentNegotiation):
    """DRF's negotiation (``?format=``, else ``Accept``), but an unknown or repeated ``format`` is
    a 400 naming it, not DRF's 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        refuse_repeated(request.query_params, {name})
        if request.query_params.get(name) == "":  # DRF would take it for no format; the schema does not
            self.filter_renderers(renderers, "")
        return super().select_renderer(request, renderers, format_suffix)

    def filter_renderers(self, renderers, format):
        kept = [renderer for renderer in renderers if renderer.format == format]
        if not kept:
            formats = ", ".join(renderer.format for renderer in renderers)
            raise ValidationError({"format": [UNKNOWN_FORMAT.format(format=format, formats=formats)]})
        return kept


def _format_parameter(renderers) -> OpenApiParameter:
    formats = [renderer.format for renderer in renderers]
    return OpenApiParameter(
        "format", {"type": "string", "enum": formats}, OpenApiParameter.QUERY,
        description=f"The answer's format (default `{formats[0]}`); or ask with `Accept`: "
        + ", ".join(f"`{renderer.media_type}`" for renderer in renderers) + ".",
    )


class _Report(APIView):
    """Auditors, finance and managers read reports; an error answers as JSON in any format."""

    permission_classes = [HasPermission.for_perms("reports.view_stock_report")]
    content_negotiation_class = FormatNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(response, "exception", False):
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response

    def query(self, serializer_class) -> dict:
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data


_REPORT_RENDERERS = [JSONRenderer, CSVRenderer, XLSXRenderer]
_REPORT_EXAMPLE = {
    "from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "position": 9, "product": 1, "location": None,
    "warehouse": None, "reconciled": True,
    "rows": [{
        "product": 1, "sku": "BOLT-M8", "name": "Hex bolt M8x40", "unit": "ea", "location": 2, "location_code": "A-01",
        "warehouse": 1, "warehouse_code": "MAIN", "opening": "0.000", "receipts": "0.000", "issues": "120.000",
        "transfers_in": "1500.000", "transfers_out": "0.000", "count_gains": "0.000", "count_losses": "0.000",
        "reversals": "0.000", "closing": "1380.000", "movements": 2, "reconciled": True,
    }],
    "products": [{
        "product": 1, "sku": "BOLT-M8", "name": "Hex bolt M8x40", "unit": "ea", "locations": 1, "opening": "0.000",
        "receipts": "0.000", "issues": "120.000", "transfers_in": "1500.000", "transfers_out": "0.000",
        "count_gains": "0.000", "count_losses": "0.000", "reversals": "0.000", "closing": "1380.000", "movements": 2,
        "reconciled": True,
    }],
    "total": {
        "opening": "0.000", "receipts": "0.000", "issues": "120.000", "transfers_in": "1500.000",
        "transfers_out": "0.000", "count_gains": "0.000", "count_losses": "0.000", "reversals": "0.000",
        "closing": "1380.000", "movements": 2, "reconciled": True,
    },
}
_DOWNLOAD = OpenApiParameter(
    "Content-Disposition", {"type": "string"}, OpenApiParameter.HEADER, response=[200],
    description="CSV and XLSX: `attachment; filename=\"stock-report_FROM_TO.csv\"` (or `.xlsx`).",
)


class StockReportView(_Report):
    """The auditor's stock report of a period, from the ledger: per product and location, opening
    + receipts - issues + transfers in - transfers out + count gains - count losses + reversals =
    closing, each row and total reconciled; as JSON, CSV or XLSX."""

    renderer_classes = _REPORT_RENDERERS

    @extend_schema(
        parameters=[serializers.StockReportQuerySerializer, _format_parameter(_REPORT_RENDERERS), _DOWNLOAD],
        responses={
            (200, "application/json"): OpenApiResponse(serializers.StockReportSerializer, description=(
                "The report; CSV and XLSX lay out the same lines: each product's rows, its total, then the total."
            ), examples=[
                OpenApiExample("BOLT-M8 over a year", _REPORT_EXAMPLE, response_only=True, status_codes=["200"]),
            ]),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The lines under one header row."),
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="A workbook: the lines, and the period."),
            (404, "application/json"): _NOT_FOUND,
        },
    )
    def get(self, request):
        query = self.query(serializers.StockReportQuerySerializer)
        scope = Scope(query.get("product"), query.get("location"), query.get("warehouse"))
        report = stock_report(start=query["from"], end=query["to"], scope=scope, position=query.get("position"))
        extension = request.accepted_renderer.format
        lines = len(report.rows) + len(report.products) + 1
        if extension == "xlsx" and lines > MAX_XLSX_LINES:
            raise ValidationError({"format": [TOO_MANY_LINES.format(lines=lines, limit=MAX_XLSX_LINES)]})
        response = Response(serializers.StockReportSerializer(report).data)
        if extension != "json":
            name = f"stock-report_{report.start:%Y%m%dT%H%M}_{report.end:%Y%m%dT%H%M}.{extension}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


_CHART_RENDERERS = [SVGRenderer, JSONRenderer]


class StockChartView(_Report):
    """A product's stock over a period at a location, a warehouse or every location, from the
    ledger: an SVG step line through every change (a dot at each), or its points as JSON."""

    renderer_classes = _CHART_RENDERERS

    @extend_schema(
        parameters=[serializers.StockChartQuerySerializer, _format_parameter(_CHART_RENDERERS)],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="The chart."),
            (200, "application/json"): OpenApiResponse(
                serializers.StockChartSerializer, description="The chart (SVG), or the points it draws (JSON).",
            ),
            (404, "application/json"): _NOT_FOUND,
        },
    )
    def get(self, request):
        query = self.query(serializers.StockChartQuerySerializer)
        series = stock_over_time(
            product=query["product"], start=query["from"], end=query["to"],
            scope=Scope(location=query.get("location"), warehouse=query.get("warehouse")), position=query.get("position"),
        )
        if len(series.points) > MAX_POINTS:
            raise ValidationError({"from": [TOO_MANY_POINTS.format(points=len(series.points), limit=MAX_POINTS)]})
        return Response(serializers.StockChartSerializer(series).data)


def _attachment(response: Response, request, name: str) -> Response:
    """A format other than JSON is a download named ``name`` and the format's extension."""
    extension = request.accepted_renderer.format
    if extension != "json":
        response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response

_EXPIRY_RENDERERS = [JSONRenderer, ExpiryCSVRenderer]
_EXPIRY_EXAMPLE = {
    "today": "2026-12-02", "within_days": 30, "through": "2027-01-01", "position": 14, "product": None,
    "location": None, "warehouse": None,
    "rows": [{
        "product": 4, "sku": "MILK-1L", "name": "Milk 1 l", "unit": "ea", "lot": 2, "lot_code": "L-2311",
        "expires_on": "2026-11-30", "days_left": -2, "expired": True, "location": 2, "location_label": "MAIN/A-01",
        "warehouse": 1, "quantity": "6.000", "unit_price": "1.2500", "value": "7.5000",
    }],
    "expired": {"rows": 1, "lots": 1, "quantity": "6.000", "value": "7.5000"},
    "total": {"rows": 1, "lots": 1, "quantity": "6.000", "value": "7.5000"},
}


class ExpiryReportView(_Report):
    """Lots with stock expiring within ``within_days`` of today in the books' time zone (default 30),
    those already expired included and flagged: per lot and location, first-expiring first, with
    quantity and value at the catalog price, and totals; as JSON or CSV."""

    renderer_classes = _EXPIRY_RENDERERS

    @extend_schema(
        parameters=[serializers.ExpiryQuerySerializer, _format_parameter(_EXPIRY_RENDERERS), _DOWNLOAD],
        responses={
            (200, "application/json"): OpenApiResponse(serializers.ExpiryReportSerializer, description=(
                "The report; CSV lays out the same lines, then the expired lines' total and the total."
            ), examples=[OpenApiExample("A lot expired two days ago", _EXPIRY_EXAMPLE, response_only=True, status_codes=["200"])]),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The lines under one header row."),
            (404, "application/json"): _NOT_FOUND,
        },
    )
    def get(self, request):
        query = self.query(serializers.ExpiryQuerySerializer)
        scope = Scope(query.get("product"), query.get("location"), query.get("warehouse"))
        report = expiry_report(within_days=query["within_days"], scope=scope)
        response = Response(serializers.ExpiryReportSerializer(report).data)
        return _attachment(response, request, f"expiry-report_{report.today:%Y%m%d}_{report.within_days}d")


_TRACE_RENDERERS = [JSONRenderer, TraceCSVRenderer]


_TRACE_MOVEMENT = {
    "position": 10, "kind": "receipt", "occurred_at": "2026-12-03T11:44:14.190325Z", "recorded_at": "2026-12-03T11:44:14.190325Z",
    "user": 2, "location": 1, "location_label": "MAIN/RECV", "to_location": None, "to_location_label": None,
    "quantity": "50.000", "delta": "50.000", "reference": "PO-1002", "reason": "", "reverses": None, "allocation": None,
}
_TRACE_EXAMPLE = {
    "lot": 1, "lot_code": "L-2312", "product": 6, "sku": "MILK-1L", "name": "Milk 1 l", "unit": "ea",
    "expires_on": "2026-12-21", "manufactured_on": None, "position": 16,
    "movements": [_TRACE_MOVEMENT, {
        **_TRACE_MOVEMENT, "position": 14, "kind": "issue", "occurred_at": "2026-12-03T11:44:14.402320Z",
        "recorded_at": "2026-12-03T11:44:14.402320Z", "quantity": "40.000", "delta": "-40.000", "reference": "SO-501",
        "allocation": 13,
    }],
    "stock": [{"location": 1, "location_label": "MAIN/RECV", "warehouse": 1, "quantity": "10.000"}],
    "on_hand": "10.000",
}


class LotTraceView(_Report):
    """A lot's trace, a recall's first question: every movement of the lot from its first (its
    receipt) in ledger order, and where its stock is now, per location and in all; as JSON or CSV."""

    renderer_classes = _TRACE_RENDERERS

    @extend_schema(
        parameters=[
            OpenApiParameter("id", id_integer(MAX_ID), OpenApiParameter.PATH, description="The lot's id."),
            serializers.TraceQuerySerializer, _format_parameter(_TRACE_RENDERERS),
            OpenApiParameter(
                "Content-Disposition", {"type": "string"}, OpenApiParameter.HEADER, response=[200],
                description='CSV: `attachment; filename="lot-ID-trace.csv"`.',
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(serializers.LotTraceSerializer, description=(
                "The trace; CSV lays out its movements, then its stock per location and the total."
            ), examples=[OpenApiExample(
                "received, then 40 taken by a FEFO issue", _TRACE_EXAMPLE, response_only=True, status_codes=["200"],
            )]),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The lines under one header row."),
            (404, "application/json"): error_response("not_found", description="No such lot."),
        },
    )
    def get(self, request, id: int):
        query = self.query(serializers.TraceQuerySerializer)
        trace = lot_trace(lot_id=id, position=query.get("position"))
        response = Response(serializers.LotTraceSerializer(trace).data)
        return _attachment(response, request, f"lot-{trace.lot.pk}-trace")
