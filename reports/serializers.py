"""The reports' query parameters, and their answers as JSON (which the CSV, XLSX and SVG renderers
lay out in their own way).

The answers' fields are declared for the schema; ``to_representation`` writes them directly, as
``ledger.serializers.MovementSerializer`` does: a report of the whole ledger has a row per
product-location, and DRF's field-by-field path would cost more than the report's SQL.
"""
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

from rest_framework import serializers

from catalog.models import MONEY, QUANTITY
from common.api.fields import ZonedDateTimeField
from common.api.parsers import refuse_repeated
from common.ids import MAX_ID
from ledger.closes import books_zone
from ledger.models import MovementKind

from .expiry import DEFAULT_DAYS, ExpiryReport, ExpiryTotal
from .selectors import QUANTITIES, Figures, StockReport, StockSeries
from .trace import LotTrace

# A figure: a quantity, or a total of quantities (which may pass one quantity's digits).
FIGURE = {"max_digits": None, "decimal_places": QUANTITY["decimal_places"]}
_QUANTUM = Decimal(1).scaleb(-FIGURE["decimal_places"])
AFTER_FROM = "Must be after 'from': a period runs from 'from' (inclusive) to 'to' (exclusive)."


def _quantity(value: Decimal) -> str:
    return format(value.quantize(_QUANTUM), "f")


MONEY_FIGURE = {"max_digits": None, "decimal_places": MONEY["decimal_places"]}
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY["decimal_places"])


def _money(value: Decimal) -> str:
    return format(value.quantize(_MONEY_QUANTUM), "f")


_datetime = serializers.DateTimeField().to_representation  # ISO 8601 in UTC, with Z
_DATE_ALONE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodBoundField(ZonedDateTimeField):
    """A period's bound: a time that names its zone, or a date alone, the start of that day in the
    books' time zone, as a period close reads its date (so a year's report and its close agree)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and _DATE_ALONE.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                self.fail("invalid")
            return datetime.combine(day, time.min, tzinfo=books_zone()).astimezone(UTC)
        return super().to_internal_value(value)


def _with_from(serializer_class):
    """The answer's ``from_`` field (``from`` is a Python keyword) named ``from``, in its place."""
    serializer_class._declared_fields = {
        ("from" if name == "from_" else name): field for name, field in serializer_class._declared_fields.items()
    }
    return serializer_class


def _id(min_value: int = 1, **kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=min_value, max_value=MAX_ID, required=False, **kwargs)


_PERIOD_FIELDS = {
    "from": PeriodBoundField(
        help_text="The period's start in business time, inclusive: ISO 8601 with a zone, or a date alone (the "
        "start of that day in the books' time zone, `TIME_ZONE`)."
    ),
    "to": PeriodBoundField(
        help_text="The period's end in business time, exclusive (the next period's `from`); after `from`."
    ),
    "position": _id(
        min_value=0,
        help_text="Record time: only movements recorded up to this ledger position count (default: the head). "
        "The answer names the position it read up to; pass it again to reproduce the figures later.",
    ),
    "location": _id(help_text="Only this location; one that does not exist is a 404 `not_found`."),
    "warehouse": _id(help_text="Only this warehouse's locations; one that does not exist is a 404 `not_found`."),
}


class _Query(serializers.Serializer):
    """Query parameters: one given twice, or given empty (DRF would take it for not given; the
    schema does not), is a 400 naming it."""

    EMPTY = "Give a value, or leave the parameter out."

    def to_internal_value(self, data):
        refuse_repeated(data, set(self.fields))
        empty = [name for name in self.fields if data.get(name) == ""]
        if empty:
            raise serializers.ValidationError({name: [self.EMPTY] for name in empty})
        return super().to_internal_value(data)


class _PeriodQuery(_Query):
    def validate(self, attrs):
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": [AFTER_FROM]})
        return attrs


StockReportQuerySerializer = type("StockReportQuerySerializer", (_PeriodQuery,), {
    "__doc__": "A period, a record time and a scope: a product, a location, a warehouse, several (each narrows "
    "the others) or none (every product at every location).",
    **_PERIOD_FIELDS,
    "product": _id(help_text="Only this product; one that does not exist is a 404 `not_found`."),
})

StockChartQuerySerializer = type("StockChartQuerySerializer", (_PeriodQuery,), {
    "__doc__": "A product, a period, a record time and where: a location, a warehouse, or every location.",
    **_PERIOD_FIELDS,
    "product": serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The product; one that does not exist is a 404 `not_found`."
    ),
})


class FiguresSerializer(serializers.Serializer):
    """Quantities are decimal strings; outflows (issues, transfers out, count losses) are positive
    and taken off; ``reversals`` is signed."""

    opening = serializers.DecimalField(**FIGURE, help_text="Stock as of `from`: every movement dated before it.")
    receipts = serializers.DecimalField(**FIGURE)
    issues = serializers.DecimalField(**FIGURE)
    transfers_in = serializers.DecimalField(**FIGURE)
    transfers_out = serializers.DecimalField(**FIGURE)
    count_gains = serializers.DecimalField(**FIGURE, help_text="Counts that found more than expected.")
    count_losses = serializers.DecimalField(**FIGURE, help_text="Counts that found less than expected.")
    reversals = serializers.DecimalField(**FIGURE, help_text="The signed change of reversals, whatever they reverse.")
    closing = serializers.DecimalField(**FIGURE, help_text="Stock as of `to`: every movement dated before it.")
    movements = serializers.IntegerField(help_text="Legs of movements in the period behind the flows.")
    reconciled = serializers.BooleanField(
        help_text="opening + receipts - issues + transfers_in - transfers_out + count_gains - count_losses + reversals "
        "= closing, opening and closing summed by business time alone, the flows by kind."
    )



def _figures(figures: Figures) -> dict:
    """``FiguresSerializer``'s fields."""
    body = dict(zip(QUANTITIES, map(_quantity, figures[:-1]), strict=True))
    return {**body, "movements": figures.movements, "reconciled": figures.reconciled}


class ProductFields(serializers.Serializer):
    product = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()


class ReportRowSerializer(ProductFields, FiguresSerializer):
    location = serializers.IntegerField()
    location_code = serializers.CharField()
    warehouse = serializers.IntegerField()
    warehouse_code = serializers.CharField()


class ProductTotalSerializer(ProductFields, FiguresSerializer):
    locations = serializers.IntegerField(help_text="Rows (locations) this total adds up.")


@_with_from
class StockReportSerializer(serializers.Serializer):
    """A row per product-location that held stock at `from` or moved in the period, each product's
    total over its rows, and the report's total (a sum over every product and unit: a check figure)."""

    from_ = serializers.DateTimeField()
    to = serializers.DateTimeField()
    position = serializers.IntegerField(help_text="The ledger position read up to (record time).")
    product = serializers.IntegerField(allow_null=True)
    location = serializers.IntegerField(allow_null=True)
    warehouse = serializers.IntegerField(allow_null=True)
    reconciled = serializers.BooleanField(help_text="Every row and every total is reconciled.")
    rows = ReportRowSerializer(many=True)
    products = ProductTotalSerializer(many=True)
    total = FiguresSerializer()

    def to_representation(self, report: StockReport) -> dict:
        return {
            "from": _datetime(report.start),
            "to": _datetime(report.end),
            "position": report.position,
            "product": report.scope.product,
            "location": report.scope.location,
            "warehouse": report.scope.warehouse,
            "reconciled": report.reconciled,
            "rows": [
                {
                    "product": r.product, "sku": r.sku, "name": r.name, "unit": r.unit,
                    "location": r.location, "location_code": r.location_code,
                    "warehouse": r.warehouse, "warehouse_code": r.warehouse_code,
                    **_figures(r.figures),
                }
                for r in report.rows
            ],
            "products": [
                {
                    "product": p.product, "sku": p.sku, "name": p.name, "unit": p.unit, "locations": p.locations,
                    **_figures(p.figures),
                }
                for p in report.products
            ],
            "total": _figures(report.total),
        }


class StockPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="A business time at which the stock in scope changed.")
    quantity = serializers.DecimalField(**FIGURE, help_text="On hand in scope after every movement dated then.")


@_with_from
class StockChartSerializer(serializers.Serializer):
    """The chart's data: the stock at `from`, after each change in the period, and at `to`."""

    product = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    location = serializers.IntegerField(allow_null=True)
    warehouse = serializers.IntegerField(allow_null=True)
    where = serializers.CharField(help_text="The scope, for a person: `MAIN/A-01`, `warehouse MAIN`, `every location`.")
    from_ = serializers.DateTimeField()
    to = serializers.DateTimeField()
    position = serializers.IntegerField(help_text="The ledger position read up to (record time).")
    opening = serializers.DecimalField(**FIGURE)
    closing = serializers.DecimalField(**FIGURE)
    points = StockPointSerializer(many=True, help_text="In time order; none where the stock did not change.")

    def to_representation(self, series: StockSeries) -> dict:
        product = series.product
        return {
            "product": product.pk, "sku": product.sku, "name": product.name, "unit": product.unit,
            "location": series.scope.location, "warehouse": series.scope.warehouse, "where": series.where,
            "from": _datetime(series.start), "to": _datetime(series.end), "position": series.position,
            "opening": _quantity(series.opening), "closing": _quantity(series.closing),
            "points": [{"at": _datetime(p.at), "quantity": _quantity(p.quantity)} for p in series.points],
        }


MAX_DAYS = 3650


class ExpiryQuerySerializer(_Query):
    """How far ahead, and a scope: a product, a location, a warehouse, several (each narrows the
    others) or none."""

    within_days = serializers.IntegerField(
        min_value=0, max_value=MAX_DAYS, default=DEFAULT_DAYS,
        help_text="Lots expiring within this many days of today (in the books' time zone), today included; "
        "those already expired are always in.",
    )
    product = _id(help_text="Only this product; one that does not exist is a 404 `not_found`.")
    location = _PERIOD_FIELDS["location"]
    warehouse = _PERIOD_FIELDS["warehouse"]


class ExpiryRowSerializer(ProductFields):
    lot = serializers.IntegerField()
    lot_code = serializers.CharField()
    expires_on = serializers.DateField(help_text="The last day it may be used.")
    days_left = serializers.IntegerField(help_text="Days from today to `expires_on`: 0 on its last day, negative once expired.")
    expired = serializers.BooleanField(help_text="Past `expires_on`: posting allocates it no more.")
    location = serializers.IntegerField()
    location_label = serializers.CharField(help_text="`WAREHOUSE/CODE`.")
    warehouse = serializers.IntegerField()
    quantity = serializers.DecimalField(**FIGURE, help_text="On hand of this lot at this location.")
    unit_price = serializers.DecimalField(**MONEY_FIGURE, help_text="The product's catalog price.")
    value = serializers.DecimalField(**MONEY_FIGURE, help_text="quantity * unit_price, to the ten-thousandth (half up).")


class ExpiryTotalSerializer(serializers.Serializer):
    rows = serializers.IntegerField(help_text="Lines (lot and location) it adds up.")
    lots = serializers.IntegerField()
    quantity = serializers.DecimalField(**FIGURE, help_text="Over every product and unit: a check figure.")
    value = serializers.DecimalField(**MONEY_FIGURE, help_text="The sum of the lines' values.")


def _expiry_total(total: ExpiryTotal) -> dict:
    return {"rows": total.rows, "lots": total.lots, "quantity": _quantity(total.quantity), "value": _money(total.value)}


class ExpiryReportSerializer(serializers.Serializer):
    """A line per lot and location with stock, first-expiring first, then the totals of the expired
    lines and of all of them."""

    today = serializers.DateField(help_text="Today in the books' time zone.")
    within_days = serializers.IntegerField()
    through = serializers.DateField(help_text="The last expiry date in the report: today + within_days.")
    position = serializers.IntegerField(help_text="The ledger position the lot stock reflects (its projection's).")
    product = serializers.IntegerField(allow_null=True)
    location = serializers.IntegerField(allow_null=True)
    warehouse = serializers.IntegerField(allow_null=True)
    rows = ExpiryRowSerializer(many=True)
    expired = ExpiryTotalSerializer(help_text="The lines of lots that have expired.")
    total = ExpiryTotalSerializer()

    def to_representation(self, report: ExpiryReport) -> dict:
        return {
            "today": report.today.isoformat(), "within_days": report.within_days, "through": report.through.isoformat(),
            "position": report.position, "product": report.scope.product, "location": report.scope.location,
            "warehouse": report.scope.warehouse,
            "rows": [
                {
                    "product": r.product, "sku": r.sku, "name": r.name, "unit": r.unit, "lot": r.lot,
                    "lot_code": r.lot_code, "expires_on": r.expires_on.isoformat(), "days_left": r.days_left,
                    "expired": r.expired, "location": r.location, "location_label": r.location_label,
                    "warehouse": r.warehouse, "quantity": _quantity(r.quantity), "unit_price": _money(r.unit_price),
                    "value": _money(r.value),
                }
                for r in report.rows
            ],
            "expired": _expiry_total(report.expired),
            "total": _expiry_total(report.total),
        }


class TraceQuerySerializer(_Query):
    position = _id(
        min_value=0,
        help_text="Record time: only movements recorded up to this ledger position (default: the head). The answer "
        "names the position it read up to.",
    )


class TraceMovementSerializer(serializers.Serializer):
    """One movement of the lot, as the ledger recorded it (all of it: `movements/{position}/`)."""

    position = serializers.IntegerField(help_text="Its place in the ledger, and its id.")
    kind = serializers.ChoiceField(choices=MovementKind.choices)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    user = serializers.IntegerField()
    location = serializers.IntegerField()
    location_label = serializers.CharField()
    to_location = serializers.IntegerField(allow_null=True)
    to_location_label = serializers.CharField(allow_null=True)
    quantity = serializers.DecimalField(**FIGURE)
    delta = serializers.DecimalField(**FIGURE, help_text="The signed change at `location` (`to_location` changes by -delta).")
    reference = serializers.CharField()
    reason = serializers.CharField()
    reverses = serializers.IntegerField(allow_null=True)
    allocation = serializers.IntegerField(
        allow_null=True, help_text="Split across lots: the first event of that posting.",
    )


class LotHereSerializer(serializers.Serializer):
    location = serializers.IntegerField()
    location_label = serializers.CharField()
    warehouse = serializers.IntegerField()
    quantity = serializers.DecimalField(**FIGURE)


class LotTraceSerializer(ProductFields):
    """The lot (and its product), every movement of it in ledger order, and where it is on hand now."""

    lot = serializers.IntegerField()
    lot_code = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True)
    manufactured_on = serializers.DateField(allow_null=True)
    position = serializers.IntegerField(help_text="The ledger position read up to (record time).")
    movements = TraceMovementSerializer(many=True)
    stock = LotHereSerializer(many=True, help_text="Each location where some is on hand: the movements' legs summed there.")
    on_hand = serializers.DecimalField(**FIGURE)

    def to_representation(self, trace: LotTrace) -> dict:
        lot, product = trace.lot, trace.lot.product
        return {
            "lot": lot.pk, "lot_code": lot.code, "product": product.pk, "sku": product.sku, "name": product.name,
            "unit": product.unit, "expires_on": lot.expires_on and lot.expires_on.isoformat(),
            "manufactured_on": lot.manufactured_on and lot.manufactured_on.isoformat(), "position": trace.position,
            "movements": [
                {
                    "position": m.position, "kind": m.kind, "occurred_at": _datetime(m.occurred_at),
                    "recorded_at": _datetime(m.recorded_at), "user": m.user_id, "location": m.location_id,
                    "location_label": str(m.location), "to_location": m.to_location_id,
                    "to_location_label": str(m.to_location) if m.to_location_id else None,
                    "quantity": _quantity(m.quantity), "delta": _quantity(m.delta), "reference": m.reference,
                    "reason": m.reason, "reverses": m.reverses_id, "allocation": m.allocation_id,
                }
                for m in trace.movements
            ],
            "stock": [
                {"location": h.location, "location_label": h.location_label, "warehouse": h.warehouse,
                 "quantity": _quantity(h.quantity)}
                for h in trace.stock
            ],
            "on_hand": _quantity(trace.on_hand),
        }
