"""The finance reports' query parameters, their answers as JSON, and the export jobs.

An answer is written by ``finance_json`` (every figure a decimal string: money to the
ten-thousandth, quantities to the thousandth, ratios to the ten-thousandth; times ISO 8601 in UTC);
the serializers below declare it for the schema.
"""
from decimal import Decimal

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from catalog.models import MONEY as MONEY_FIELD
from catalog.models import QUANTITY as QUANTITY_FIELD
from common.api.schema import closed
from common.ids import MAX_ID
from valuation.selectors import FLOW_GROUPS, PERIODS
from valuation.serializers import AsOfField

from . import finance
from .models import ExportJob
from .serializers import AFTER_FROM, PeriodBoundField, _id, _Query

MAX_DAYS = 36_500
_QUANT = {
    finance.MONEY: Decimal(1).scaleb(-MONEY_FIELD["decimal_places"]),
    finance.QUANTITY: Decimal(1).scaleb(-QUANTITY_FIELD["decimal_places"]),
    finance.RATIO: Decimal("0.0001"),
}
_time = serializers.DateTimeField().to_representation


def _scope():
    return {
        "product": _id(help_text="Only this product; one that does not exist is a 404 `not_found`."),
        "category": _id(help_text="Only this category; one that does not exist is a 404 `not_found`."),
        "warehouse": _id(help_text="Only this warehouse; one that does not exist is a 404 `not_found`."),
    }


def _period():
    return {
        "from": PeriodBoundField(help_text="The period's start in business time, inclusive: ISO 8601 with a zone, or a "
                                 "date alone (the start of that day in the books' time zone)."),
        "to": PeriodBoundField(help_text="The period's end, exclusive; after `from`."),
    }


class _PeriodQuery(_Query):
    def validate(self, attrs):
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": [AFTER_FROM]})
        return attrs


def _as_of():
    return AsOfField(required=False, help_text="Business time, inclusive (a date alone: the end of that day in the books' "
                     "time zone). Without it: now.")


ValuationReportQuery = type("ValuationReportQuery", (_Query,), {
    "__doc__": "As of when, per what, and a scope.",
    "as_of": _as_of(),
    "group_by": serializers.ChoiceField(choices=("product", "category", "warehouse"), default="product",
                                        help_text="One line per product, category or warehouse."),
    **_scope(),
})

FlowsReportQuery = type("FlowsReportQuery", (_PeriodQuery,), {
    "__doc__": "A period, cut into days, weeks or months, per category or product.",
    **_period(),
    "period": serializers.ChoiceField(choices=tuple(PERIODS), default="month",
                                      help_text="The periods lines are cut into, in the books' time zone (a week starts on Monday)."),
    "group_by": serializers.ChoiceField(choices=FLOW_GROUPS, default="category", help_text="One line per period and category or product."),
    **_scope(),
})

_turnover_scope = _scope()
del _turnover_scope["warehouse"]
TurnoverReportQuery = type("TurnoverReportQuery", (_PeriodQuery,), {
    "__doc__": "A period, per product or category.",
    **_period(),
    "group_by": serializers.ChoiceField(choices=("product", "category"), default="product", help_text="One line per product or category."),
    **_turnover_scope,
})


class SlowStockQuery(_Query):
    """How long without an issue is slow, and dead; as of when; a scope."""

    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=90,
                                    help_text="Slow: stock on hand and no issue in this many days before `as_of`.")
    dead_days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=365,
                                         help_text="Dead: no issue in this many days (or never); at least `days`.")
    as_of = _as_of()
    category = _scope()["category"]
    warehouse = _scope()["warehouse"]

    def validate(self, attrs):
        if attrs["dead_days"] < attrs["days"]:
            raise serializers.ValidationError({"dead_days": ["Must be at least `days`."]})
        return attrs


QUERIES = {finance.VALUATION: ValuationReportQuery, finance.FLOWS: FlowsReportQuery, finance.TURNOVER: TurnoverReportQuery,
           finance.SLOW: SlowStockQuery}


def _value(value, kind: str):
    if value is None:
        return None
    if kind in _QUANT:
        return format(Decimal(value).quantize(_QUANT[kind]), "f")
    if kind == finance.TIME:
        return _time(value)
    return value


def _parameter(value):
    return _time(value) if hasattr(value, "tzinfo") else value


def finance_json(report: finance.FinanceReport) -> dict:
    """The report as JSON: its name, grouping, parameters, lines and total."""
    kinds = dict(report.columns)
    return {
        "report": report.report, "group_by": report.group_by,
        "parameters": {name: _parameter(value) for name, value in report.parameters.items()},
        "lines": [{name: _value(line.get(name), kind) for name, kind in report.columns if name != "line"} for line in report.lines],
        "total": {name: _value(value, kinds[name]) for name, value in report.total.items()},
    }


# -- for the schema ----------------------------------------------------------------------------
def _decimal(places: int, **kwargs):
    return serializers.DecimalField(max_digits=None, decimal_places=places, coerce_to_string=True, **kwargs)


_FIELD = {
    finance.TEXT: lambda **kw: serializers.CharField(allow_null=True, **kw),
    finance.NUMBER: lambda **kw: serializers.IntegerField(allow_null=True, **kw),
    finance.QUANTITY: lambda **kw: _decimal(3, **kw),
    finance.MONEY: lambda **kw: _decimal(4, **kw),
    finance.RATIO: lambda **kw: _decimal(4, allow_null=True, **kw),
    finance.TIME: lambda **kw: serializers.DateTimeField(allow_null=True, **kw),
    finance.FLAG: serializers.BooleanField,
}


def _answer_serializer(name: str, report: str, groups: tuple[str, ...], totals: tuple[str, ...]):
    """A report's answer for the schema: its lines have the columns of every grouping it offers; a
    line holds its own grouping's alone (``finance_json``), so only the columns of every grouping are
    required, the others say which groupings have them."""
    groups_of: dict[str, list[str]] = {}
    kind_of: dict[str, str] = {}
    for group in groups:
        for column, kind in finance.columns(report, group):
            if column != "line":
                groups_of.setdefault(column, []).append(group)
                kind_of[column] = kind
    line_fields = {}
    for column, in_groups in groups_of.items():
        if len(in_groups) == len(groups):
            line_fields[column] = _FIELD[kind_of[column]]()
        else:
            line_fields[column] = _FIELD[kind_of[column]](required=False, help_text=f"Lines grouped by {' or '.join(in_groups)} alone.")
    line = type(f"{name}Line", (serializers.Serializer,), line_fields)
    total = type(f"{name}Total", (serializers.Serializer,), {column: _FIELD[kind_of[column]]() for column in totals})
    return type(name, (serializers.Serializer,), {
        "report": serializers.CharField(), "group_by": serializers.CharField(), "parameters": serializers.DictField(),
        "lines": line(many=True), "total": total(),
    })


ValuationReportSerializer = _answer_serializer("ValuationReport", finance.VALUATION, ("product", "category", "warehouse"), ("quantity", "value"))
FlowsReportSerializer = _answer_serializer("FlowsReport", finance.FLOWS, FLOW_GROUPS, (
    "received_quantity", "receipts_value", "issued_quantity", "cogs", "adjustments_value"))
TurnoverReportSerializer = _answer_serializer("TurnoverReport", finance.TURNOVER, ("product", "category"), (
    "opening_value", "closing_value", "average_value", "cogs", "turnover", "days_of_inventory"))
SlowStockReportSerializer = _answer_serializer("SlowStockReport", finance.SLOW, ("product",), ("quantity", "value"))


NOT_A_FIELD = "Not a field of an export: give report, format and parameters."
NOT_A_PARAMETER = "Not a parameter of the {report} report."
NOT_A_VALUE = "Give a text or a number."


class ExportRequestSerializer(serializers.Serializer):
    """Which report, in which format, with the report's own query parameters (as its GET takes them:
    text, or numbers). Errors in them name the parameter: ``parameters.to``."""

    report = serializers.ChoiceField(choices=finance.REPORTS)
    format = serializers.ChoiceField(choices=("csv", "xlsx"))
    parameters = serializers.DictField(required=False, default=dict,
                                       help_text="The report's query parameters (e.g. `{\"as_of\": \"2026-10-31\"}`).")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = {name: [NOT_A_FIELD] for name in data if name not in self.fields}
            if unknown:
                raise serializers.ValidationError(unknown)
        return super().to_internal_value(data)

    def validate(self, attrs):
        query_class, report = QUERIES[attrs["report"]], attrs["report"]
        errors, text = {}, {}
        for name, value in attrs["parameters"].items():
            if name not in query_class._declared_fields:
                errors[f"parameters.{name}"] = [NOT_A_PARAMETER.format(report=report)]
            elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
                errors[f"parameters.{name}"] = [NOT_A_VALUE]
            else:
                text[name] = str(value)
        if not errors:
            query = query_class(data=text)
            if not query.is_valid():
                errors = {f"parameters.{name}": messages for name, messages in query.errors.items()}
        if errors:
            raise serializers.ValidationError(errors)
        return {**attrs, "parameters": text}


def _export_variant(report: str):
    """The export request of one report, for the schema: its parameters the report's query's
    (required where the report has a required one), and nothing else."""
    query = QUERIES[report]
    needed = any(field.required for field in query._declared_fields.values())
    parameters = closed(type(f"{report.title()}ExportParameters", (query,), {"__doc__": query.__doc__}))
    return closed(type(f"{report.title()}ExportRequest", (serializers.Serializer,), {
        "__doc__": f"An export of the {report} report.",
        "report": serializers.ChoiceField(choices=(report,)),
        "format": serializers.ChoiceField(choices=("csv", "xlsx")),
        "parameters": parameters(required=needed, help_text="The report's query parameters, as its GET takes them."),
    }))


EXPORT_REQUEST = PolymorphicProxySerializer(
    component_name="ExportRequest", serializers={report: _export_variant(report) for report in finance.REPORTS},
    resource_type_field_name="report",
)


class ExportJobSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField(help_text="Where to fetch the file once `state` is `done` (else null).")
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID, read_only=True)

    class Meta:
        model = ExportJob
        fields = ("id", "report", "format", "parameters", "state", "done", "total", "error", "filename", "size",
                  "created_at", "started_at", "finished_at", "download")

    def get_download(self, job) -> str | None:
        if job.state != ExportJob.State.DONE:
            return None
        request = self.context.get("request")
        path = f"/api/v1/reports/exports/{job.pk}/download/"
        return request.build_absolute_uri(path) if request else path
