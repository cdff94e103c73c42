"""The auditor's stock report and the stock-over-time chart, worked out of the ledger alone.

A period is business time (``occurred_at``) from ``start``, inclusive, to ``end``, exclusive: periods
placed end to end tile time, so a movement falls in exactly one of them and the closing of January
is the opening of February. ``position`` is record time: only movements recorded up to that ledger
position count (by default the head, which the answer names), so a report printed in January is
reproduced in June by passing the position it gave, whatever was backdated since.

A scope is a product, a location, a warehouse, any of them together (each narrows the others) or
none (the whole ledger). For each product-location in scope, one ``GROUP BY`` over the legs
(``ledger.legs.legs_sql``) dated before ``end`` sums, in one pass over the ledger:

- ``opening``: every leg dated before ``start``, whatever its kind: stock as of the period's start;
- the flows: the period's legs split by kind and sign (``FLOWS``); a reversal's legs are counted as
  ``reversals``, signed, whatever they reverse;
- ``closing``: every leg dated before ``end``, whatever its kind: stock as of the period's end.

Opening and closing are sums by business time alone; the flows split the same legs by kind. So
``reconciled`` (opening + flows = closing) holds unless a leg falls in no flow (a kind the report
does not know) or the arithmetic lost something; each row, each product's total and the report's
total carry it. Sums are exact on both databases (``projections.exact``).
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from itertools import groupby
from typing import NamedTuple

from django.db import connection

from catalog.models import Location, Product, Warehouse
from ledger.legs import legs_sql
from ledger.models import Movement, MovementKind
from ledger.quantities import from_db
from ledger.selectors import recorded_up_to
from projections.exact import arithmetic

from .errors import RecordNotFound

LEDGER = Movement._meta.db_table


@dataclass(frozen=True)
class Flow:
    """One column of the report between opening and closing: the period's legs it sums, and its
    sign in opening + flows = closing (an outflow is shown as a positive quantity taken off)."""

    name: str
    legs: str  # a condition on the legs' ``kind`` and signed ``change``
    sign: int


FLOWS = (
    Flow("receipts", f"kind = '{MovementKind.RECEIPT.value}'", 1),
    Flow("issues", f"kind = '{MovementKind.ISSUE.value}'", -1),
    Flow("transfers_in", f"kind = '{MovementKind.TRANSFER.value}' AND change > 0", 1),
    Flow("transfers_out", f"kind = '{MovementKind.TRANSFER.value}' AND change < 0", -1),
    Flow("count_gains", f"kind = '{MovementKind.COUNT.value}' AND change > 0", 1),
    Flow("count_losses", f"kind = '{MovementKind.COUNT.value}' AND change < 0", -1),
    Flow("reversals", f"kind = '{MovementKind.REVERSAL.value}'", 1),
)


class Figures(NamedTuple):
    """A row's quantities: stock at the bounds, the flows between them (outflows positive), and
    how many legs of movements in the period made them. (A named tuple: a report of the whole
    ledger makes one per product-location, and adds them up per product.)"""

    opening: Decimal
    receipts: Decimal
    issues: Decimal
    transfers_in: Decimal
    transfers_out: Decimal
    count_gains: Decimal
    count_losses: Decimal
    reversals: Decimal
    closing: Decimal
    movements: int

    @property
    def net_flow(self) -> Decimal:
        return sum((flow.sign * value for flow, value in zip(FLOWS, self[1:-2], strict=True)), Decimal(0))

    @property
    def reconciled(self) -> bool:
        return self.opening + self.net_flow == self.closing

    @classmethod
    def total(cls, figures: Sequence["Figures"]) -> "Figures":
        """Each figure summed over ``figures`` (all zero for none)."""
        columns = zip(*figures) if figures else [()] * len(cls._fields)
        return cls(*(sum(column, start) for column, start in zip(columns, _ZEROS, strict=True)))


_OUTFLOWS = [flow.sign < 0 for flow in FLOWS]
QUANTITIES = Figures._fields[:-1]  # the figures that are quantities: opening, the flows, closing
_ZEROS = (*(Decimal(0) for _ in QUANTITIES), 0)


@dataclass(frozen=True)
class ReportRow:
    product: int
    sku: str
    name: str
    unit: str
    location: int
    location_code: str
    warehouse: int
    warehouse_code: str
    figures: Figures


@dataclass(frozen=True)
class ProductTotal:
    product: int
    sku: str
    name: str
    unit: str
    locations: int  # rows it totals
    figures: Figures


@dataclass(frozen=True)
class Scope:
    """What a report or chart covers; ``None`` is "every". Together they narrow each other."""

    product: int | None = None
    location: int | None = None
    warehouse: int | None = None

    def legs(self) -> str:
        """The legs in scope, dated before ``%(end)s`` and recorded up to ``%(position)s``, with
        their movement's ``kind`` and ``occurred_at``."""
        condition = ["m.occurred_at < %(end)s", "m.position <= %(position)s"]
        if self.product is not None:
            condition.append("{product} = %(product)s")
        if self.location is not None:
            condition.append("{location} = %(location)s")
        if self.warehouse is not None:
            condition.append(f"{{location}} IN (SELECT id FROM {Location._meta.db_table} WHERE warehouse_id = %(warehouse)s)")
        return legs_sql(LEDGER, " AND ".join(condition), extra=("kind", "occurred_at"))

    def where(self) -> str:
        """Its locations, for a person: ``MAIN/A-01``, ``warehouse MAIN``, ``every location``."""
        warehouse = Warehouse.objects.get(pk=self.warehouse) if self.warehouse is not None else None
        if self.location is None:
            return f"warehouse {warehouse.code}" if warehouse else "every location"
        location = Location.objects.select_related("warehouse").get(pk=self.location)
        if warehouse and location.warehouse_id != warehouse.pk:
            return f"{location}, which is not in warehouse {warehouse.code}"
        return str(location)

    def refuse_missing(self) -> None:
        """A product, location or warehouse that is not there is a 404 naming it, not an empty report."""
        errors = {}
        checks = (
            ("product", Product, RecordNotFound.NO_PRODUCT),
            ("location", Location, RecordNotFound.NO_LOCATION),
            ("warehouse", Warehouse, RecordNotFound.NO_WAREHOUSE),
        )
        for name, model, message in checks:
            value = getattr(self, name)
            if value is not None and not model.objects.filter(pk=value).exists():
                errors[name] = [message.format(**{name: value})]
        if errors:
            raise RecordNotFound(errors)


@dataclass(frozen=True)
class StockReport:
    start: datetime
    end: datetime
    position: int
    scope: Scope
    rows: list[ReportRow]  # by SKU, then warehouse and location code
    products: list[ProductTotal]  # in the rows' order
    total: Figures

    @property
    def reconciled(self) -> bool:
        return self.total.reconciled and all(r.figures.reconciled for r in [*self.rows, *self.products])


def _params(scope: Scope, start: datetime, end: datetime, position: int) -> dict:
    adapt = connection.ops.adapt_datetimefield_value
    return {
        "product": scope.product, "location": scope.location, "warehouse": scope.warehouse,
        "start": adapt(start), "end": adapt(end), "position": position,
    }


def _report_sql(scope: Scope) -> str:
    total = arithmetic().sum("change")
    in_period = "occurred_at >= %(start)s"
    figures = [f"{total} FILTER (WHERE occurred_at < %(start)s) AS opening"]
    figures += [f"{total} FILTER (WHERE {in_period} AND {flow.legs}) AS {flow.name}" for flow in FLOWS]
    figures += [f"{total} AS closing", f"COUNT(*) FILTER (WHERE {in_period}) AS movements"]
    names = ", ".join(f"t.{name}" for name in (*QUANTITIES, "movements"))
    return f"""
        SELECT t.product_id, p.sku, p.name, p.unit, t.location_id, l.code, w.id, w.code, {names}
          FROM (SELECT product_id, location_id, {", ".join(figures)}
                  FROM ({scope.legs()}) legs
                 GROUP BY product_id, location_id) t
          JOIN {Product._meta.db_table} p ON p.id = t.product_id
          JOIN {Location._meta.db_table} l ON l.id = t.location_id
          JOIN {Warehouse._meta.db_table} w ON w.id = l.warehouse_id
         ORDER BY p.sku, p.id, w.code, l.code, l.id
    """


def stock_report(
    *, start: datetime, end: datetime, scope: Scope = Scope(), position: int | None = None
) -> StockReport:
    """The stock report of ``scope`` over [start, end), from movements recorded up to ``position``:
    a row per product-location that held stock at the start or moved in the period, each
    product's total over its rows, and the report's total."""
    scope.refuse_missing()
    position = recorded_up_to(position)
    with connection.cursor() as cursor:
        cursor.execute(_report_sql(scope), _params(scope, start, end, position))
        rows, zero = [], from_db(0)
        for product, sku, name, unit, location, location_code, warehouse, warehouse_code, *values in cursor.fetchall():
            opening, *flows, closing = [zero if value is None else from_db(value) for value in values[:-1]]
            # Outflows are shown positive (0 - x: never the "-0" that -x makes of zero).
            shown = [zero - total if out else total for total, out in zip(flows, _OUTFLOWS, strict=True)]
            figures = Figures(opening, *shown, closing, values[-1])
            if figures.movements or figures.opening or figures.closing:
                rows.append(ReportRow(product, sku, name, unit, location, location_code, warehouse, warehouse_code, figures))
    products = []
    for _, group in groupby(rows, key=lambda row: row.product):  # the rows come product by product
        group = list(group)
        first = group[0]
        figures = Figures.total([row.figures for row in group])
        products.append(ProductTotal(first.product, first.sku, first.name, first.unit, len(group), figures))
    total = Figures.total([product.figures for product in products])
    return StockReport(start, end, position, scope, rows, products, total)


@dataclass(frozen=True)
class StockPoint:
    at: datetime
    quantity: Decimal  # on hand in scope after every movement dated at ``at``


@dataclass(frozen=True)
class StockSeries:
    """A product's stock in scope over [start, end): ``opening`` at the start, then a point at each
    business time its stock there changed, and ``closing`` at the end."""

    product: Product
    scope: Scope
    where: str  # the scope's locations, for a person
    start: datetime
    end: datetime
    position: int
    opening: Decimal
    points: list[StockPoint]

    @property
    def closing(self) -> Decimal:
        return self.points[-1].quantity if self.points else self.opening


def _aware(value) -> datetime:
    """A time as the database hands it over in raw SQL: PostgreSQL an aware datetime; SQLite text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def stock_over_time(
    *, product: int, start: datetime, end: datetime, scope: Scope = Scope(), position: int | None = None
) -> StockSeries:
    """The stock of ``product`` in ``scope`` over [start, end) from movements recorded up to
    ``position``: one ``GROUP BY`` of its legs by business time (those before the start in one
    group, the opening). A time whose movements cancel out in scope (a transfer inside the
    warehouse) is no change, and no point."""
    scope = Scope(product, scope.location, scope.warehouse)
    scope.refuse_missing()
    position = recorded_up_to(position)
    sql = (
        f"SELECT CASE WHEN occurred_at < %(start)s THEN NULL ELSE occurred_at END AS at, {arithmetic().sum('change')}"
        f" FROM ({scope.legs()}) legs GROUP BY 1 ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(scope, start, end, position))
        changes = cursor.fetchall()
    opening = sum((from_db(change) for at, change in changes if at is None), from_db(0))
    balance, points = opening, []
    for at, change in changes:
        change = from_db(change)
        if at is not None and change:
            balance += change
            points.append(StockPoint(_aware(at), balance))
    return StockSeries(Product.objects.get(pk=product), scope, scope.where(), start, end, position, opening, points)
