"""The finance reports over HTTP (JSON, CSV, XLSX; finance and managers), and their exports: a POST
starts one, its status says how far it is, its download is for its requester or a manager."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from django.http import HttpResponse
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasPermission
from accounts.roles import MANAGER
from catalog.models import Category, Product, Warehouse
from common.api.schema import error_response, id_integer
from common.errors import DomainError, RecordNotFound
from common.ids import MAX_ID

from . import finance
from . import finance_serializers as serializers
from .api import _Report, _format_parameter
from .exports import export_start
from .finance_files import FinanceCSVRenderer, FinanceXLSXRenderer
from .models import ExportJob

READ = HasPermission.for_perms("reports.view_finance_report")
NO_RECORD = "No {name} with id {id}."
NOT_YOURS = "Only who asked for this export, or a manager, may see it."
_NOT_FOUND = error_response("not_found", description="No such product, category or warehouse (`errors` names it).")


class ExportNotReady(DomainError):
    """The export's file is not written yet (or it failed): its status says which."""

    status = 409
    code = "export_not_ready"


def _exists(query: dict) -> None:
    for model, name in ((Product, "product"), (Category, "category"), (Warehouse, "warehouse")):
        pk = query.get(name)
        if pk is not None and not model.objects.filter(pk=pk).exists():
            raise RecordNotFound({name: [NO_RECORD.format(name=name, id=pk)]})

_FORMATS = [JSONRenderer, FinanceCSVRenderer, FinanceXLSXRenderer]
_DOWNLOAD = OpenApiParameter(
    "Content-Disposition", {"type": "string"}, OpenApiParameter.HEADER, response=[200],
    description='CSV and XLSX: `attachment; filename="finance-REPORT-GROUP.csv"` (or `.xlsx`).',
)


def _period_parameters(query) -> list[OpenApiParameter]:
    """A period's bounds as the query states them, with an example each: examples that run forward
    (a client's first request, and schemathesis', is valid)."""
    return [
        OpenApiParameter(name, OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=True,
                         description=query._declared_fields[name].help_text, examples=[OpenApiExample("A quarter's", value=value)])
        for name, value in (("from", "2026-01-01T00:00:00Z"), ("to", "2026-04-01T00:00:00Z"))
    ]


def _report_view(name: str, report: str, query, answer, summary: str, example: dict):
    """A finance report's view: ``query`` validated, the report worked out, as JSON, CSV or XLSX."""
    period = _period_parameters(query) if "from" in query._declared_fields else []

    @extend_schema(
        summary=summary,
        parameters=[query, *period, _format_parameter(_FORMATS), _DOWNLOAD],
        responses={
            (200, "application/json"): OpenApiResponse(answer, examples=[
                OpenApiExample(summary, example, response_only=True, status_codes=["200"])]),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The lines, then the total, under one header row."),
            (200, FinanceXLSXRenderer.media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="A workbook: the lines and the total, and the parameters."),
            (404, "application/json"): _NOT_FOUND,
        },
    )
    def get(self, request):
        params = self.query(query)
        _exists(params)
        data = serializers.finance_json(finance.finance_report(report, params))
        response = Response(data)
        extension = request.accepted_renderer.format
        if extension != "json":
            response["Content-Disposition"] = f'attachment; filename="finance-{report}-{data["group_by"]}.{extension}"'
        return response

    return type(name, (_Report,), {"__doc__": summary + ".", "permission_classes": [READ], "renderer_classes": _FORMATS, "get": get})


ValuationReportView = _report_view(
    "ValuationReportView", finance.VALUATION, serializers.ValuationReportQuery, serializers.ValuationReportSerializer,
    "Stock valuation as of a date, per product, category or warehouse", {
        "report": "valuation", "group_by": "category",
        "parameters": {"as_of": "2026-10-31T23:59:59.999999Z", "product": None, "warehouse": None, "category": None},
        "lines": [{"category": 1, "category_name": "Fasteners", "quantity": "1500.000", "value": "3900.0000"}],
        "total": {"quantity": "1500.000", "value": "3900.0000"},
    })
FlowsReportView = _report_view(
    "FlowsReportView", finance.FLOWS, serializers.FlowsReportQuery, serializers.FlowsReportSerializer,
    "COGS and receipts value per period and category or product", {
        "report": "flows", "group_by": "category",
        "parameters": {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "period": "month", "product": None,
                       "category": None, "warehouse": None},
        "lines": [{"period_start": "2026-01-01T00:00:00Z", "category": 1, "category_name": "Fasteners", "received_quantity": "100.000",
                   "receipts_value": "250.0000", "issued_quantity": "40.000", "cogs": "96.0000", "adjustments_value": "0.0000"}],
        "total": {"received_quantity": "100.000", "receipts_value": "250.0000", "issued_quantity": "40.000", "cogs": "96.0000",
                  "adjustments_value": "0.0000"},
    })
TurnoverReportView = _report_view(
    "TurnoverReportView", finance.TURNOVER, serializers.TurnoverReportQuery, serializers.TurnoverReportSerializer,
    "Turnover (COGS / daily average inventory value) and days of inventory per product or category", {
        "report": "turnover", "group_by": "product",
        "parameters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-11T00:00:00Z", "days": 10, "product": None, "category": None},
        "lines": [{"product": 12, "sku": "BOLT-M8", "name": "Hex bolt M8x40", "category": 1, "category_name": "Fasteners",
                   "opening_value": "100.0000", "closing_value": "50.0000", "average_value": "75.0000", "cogs": "50.0000",
                   "turnover": "0.6667", "days_of_inventory": "15.0000"}],
        "total": {"opening_value": "100.0000", "closing_value": "50.0000", "average_value": "75.0000", "cogs": "50.0000",
                  "turnover": "0.6667", "days_of_inventory": "15.0000"},
    })
SlowStockReportView = _report_view(
    "SlowStockReportView", finance.SLOW, serializers.SlowStockQuery, serializers.SlowStockReportSerializer,
    "Slow-moving and dead stock: on hand, and no issue in N days", {
        "report": "slow", "group_by": "product",
        "parameters": {"as_of": "2026-12-02T12:00:00Z", "days": 90, "dead_days": 365, "category": None, "warehouse": None},
        "lines": [{"product": 7, "sku": "GASKET-40", "name": "Gasket 40 mm", "category": 1, "category_name": "Fasteners",
                   "quantity": "30.000", "value": "45.0000", "last_issue_at": "2026-06-01T09:00:00Z", "days_since_issue": 184,
                   "dead": False}],
        "total": {"quantity": "30.000", "value": "45.0000"},
    })


def _job_for(request, id: int) -> ExportJob:
    job = ExportJob.objects.filter(pk=id).first()
    if job is None:
        raise RecordNotFound({"id": [NO_RECORD.format(name="export", id=id)]})
    user = request.user
    if job.requested_by_id != user.pk and not user.is_superuser and not user.groups.filter(name=MANAGER).exists():
        raise PermissionDenied(NOT_YOURS)
    return job


_ID = OpenApiParameter("id", id_integer(MAX_ID), OpenApiParameter.PATH, description="The export's id.")
_JOB_EXAMPLE = {
    "id": 3, "report": "flows", "format": "xlsx", "parameters": {"from": "2026-01-01", "to": "2027-01-01", "period": "week"},
    "state": "done", "done": 313, "total": 313, "error": "", "filename": "finance-flows-category_20261202T221500.xlsx",
    "size": 18211, "created_at": "2026-12-02T22:15:00Z", "started_at": "2026-12-02T22:15:00Z",
    "finished_at": "2026-12-02T22:15:01Z", "download": "https://wms.example/api/v1/reports/exports/3/download/",
}


class ExportListView(APIView):
    """Start an export of a finance report to CSV or XLSX, written by a worker."""

    permission_classes = [READ]

    @extend_schema(
        request=serializers.EXPORT_REQUEST,
        responses={202: OpenApiResponse(serializers.ExportJobSerializer, description="The job; its status is at `/reports/exports/{id}/`.",
                                        examples=[OpenApiExample("Done at once", _JOB_EXAMPLE, response_only=True, status_codes=["202"])])},
        examples=[OpenApiExample("A year's flows by week", {"report": "flows", "format": "xlsx",
                                                             "parameters": {"from": "2026-01-01", "to": "2027-01-01", "period": "week"}},
                                 request_only=True)],
    )
    def post(self, request):
        body = serializers.ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = export_start(user=request.user, **body.validated_data)
        job.refresh_from_db()
        return Response(serializers.ExportJobSerializer(job, context={"request": request}).data, status=202)


class ExportDetailView(APIView):
    """An export's state, progress (``done`` of ``total`` lines) and, once done, its download link;
    for its requester or a manager."""

    permission_classes = [READ]

    @extend_schema(parameters=[_ID], responses={
        200: OpenApiResponse(serializers.ExportJobSerializer, examples=[OpenApiExample("Done", _JOB_EXAMPLE, response_only=True)]),
        404: error_response("not_found", description="No such export."),
    })
    def get(self, request, id: int):
        return Response(serializers.ExportJobSerializer(_job_for(request, id), context={"request": request}).data)


class ExportDownloadView(APIView):
    """An export's file, once done; for its requester or a manager."""

    permission_classes = [READ]

    @extend_schema(parameters=[_ID], responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV export."),
        (200, FinanceXLSXRenderer.media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The XLSX export."),
        (404, "application/json"): error_response("not_found", description="No such export."),
        (409, "application/json"): error_response("export_not_ready", description="Not written yet, or it failed."),
    })
    def get(self, request, id: int):
        job = _job_for(request, id)
        if job.state != ExportJob.State.DONE:
            raise ExportNotReady(f"Export {job.pk} is {job.state}, not done.", state=job.state)
        media = FinanceCSVRenderer.media_type if job.format == "csv" else FinanceXLSXRenderer.media_type
        response = HttpResponse(bytes(job.content), content_type=media)
        response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
        return response
