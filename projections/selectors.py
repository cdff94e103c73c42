"""Reads of the projections, their status, their verification, and replay of stock as of a moment."""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Func, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import NullIf
from django.utils import timezone

from catalog.models import Location, Lot, Product
from ledger.errors import RecordNotFound
from ledger.legs import any_leg, legs_sql
from ledger.models import Movement
from ledger.quantities import from_db
from ledger.selectors import head_position, position_recorded_by, recorded_up_to

from .definitions import LEDGER, PROJECTIONS, Projection
from .exact import arithmetic
from .models import VALUE, Checkpoint, LocationStock, LotStock, ProductLocationStock, ProductStock

MONEY = DecimalField(**VALUE)


class Ratio(Func):
    """``a / b``. SQLite may hold whole-number decimals as integers and would divide them as
    integers; there the dividend is made a real first."""

    template = "(%(expressions)s)"
    arg_joiner = " / "
    output_field = MONEY

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, arg_joiner=" * 1.0 / ", **extra_context)


def _average_cost(prefix: str = ""):
    """Weighted average cost of a product's costed receipts; null if none carried a cost."""
    return Ratio(F(f"{prefix}received_value"), NullIf(F(f"{prefix}received_quantity"), 0))


def stock_by_product_location() -> QuerySet:
    return ProductLocationStock.objects.select_related("product", "location__warehouse").order_by(
        "product_id", "location_id"
    )


def stock_by_lot() -> QuerySet:
    """On hand per product, location and lot, first-expiring first (no expiry last), as FEFO takes them."""
    return LotStock.objects.select_related("product", "location__warehouse", "lot").order_by(
        "product_id", F("lot__expires_on").asc(nulls_last=True), "lot__code", "location_id"
    )


def stock_by_product() -> QuerySet:
    return (
        ProductStock.objects.select_related("product")
        .annotate(
            average_unit_cost=_average_cost(),
            value_at_cost=ExpressionWrapper(F("quantity") * _average_cost(), output_field=MONEY),
            value_at_price=ExpressionWrapper(F("quantity") * F("product__unit_price"), output_field=MONEY),
        )
        .order_by("product__sku")
    )


def stock_by_location() -> QuerySet:
    """Quantity per location, valued at catalog price and at average receipt cost. Values are
    worked out when read: prices and costs change without any event at the location."""
    lines = ProductLocationStock.objects.filter(location_id=OuterRef("location_id")).values("location_id")

    def line_total(expression):
        return Subquery(lines.annotate(total=Sum(expression, output_field=MONEY)).values("total"), output_field=MONEY)

    return (
        LocationStock.objects.select_related("location__warehouse")
        .annotate(
            value_at_price=line_total(F("quantity") * F("product__unit_price")),
            value_at_cost=line_total(F("quantity") * _average_cost("product__stock__")),
        )
        .order_by("location_id")
    )


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float | None  # age of the oldest event not yet applied
    events_applied: int
    updated_at: datetime | None
    rebuilt_at: datetime | None
    error: str  # why the last catch-up failed; empty while it is healthy
    failed_at: datetime | None


def projections_status() -> list[ProjectionStatus]:
    head = head_position()
    statuses = []
    for checkpoint in Checkpoint.objects.order_by("name"):
        lag_seconds = None
        if checkpoint.position < head:
            oldest = Movement.objects.filter(position=checkpoint.position + 1).values_list("recorded_at", flat=True).first()
            lag_seconds = (timezone.now() - oldest).total_seconds() if oldest else None
        statuses.append(
            ProjectionStatus(
                checkpoint.name, checkpoint.position, head, head - checkpoint.position, lag_seconds,
                checkpoint.events_applied, checkpoint.updated_at, checkpoint.rebuilt_at,
                checkpoint.error, checkpoint.failed_at,
            )
        )
    return statuses


@dataclass(frozen=True)
class Difference:
    key: tuple
    stored: tuple
    replayed: tuple


@dataclass(frozen=True)
class Verification:
    name: str
    position: int
    rows: int
    differences: list[Difference] = field(default_factory=list)


def _exact(projection: Projection, rows) -> dict[tuple, tuple]:
    """Rows as {key: values}, values at their column's precision; all-zero rows are dropped
    (a pair whose stock came back to zero is the same as a pair never touched)."""
    places = [projection.model._meta.get_field(v).decimal_places for v in projection.values]
    keys = len(projection.keys)
    exact = {}
    for row in rows:
        values = tuple(Decimal(str(v or 0)).quantize(Decimal(1).scaleb(-p)) for v, p in zip(row[keys:], places))
        if any(values):
            exact[tuple(row[:keys])] = values
    return exact


def projection_verify(projection: Projection) -> Verification:
    """Compare the stored rows with a fresh replay of the ledger up to the checkpoint. The
    checkpoint stays locked meanwhile, so no catch-up moves it under the comparison."""
    with transaction.atomic():
        checkpoint = Checkpoint.objects.select_for_update().get(pk=projection.name)
        with connection.cursor() as cursor:
            cursor.execute(projection.select_sql(), {"after": 0, "upto": checkpoint.position})
            replayed = _exact(projection, cursor.fetchall())
        stored = _exact(projection, projection.model.objects.values_list(*projection.keys, *projection.values))
    zeros = tuple(Decimal(0) for _ in projection.values)
    differences = [
        Difference(key, stored.get(key, zeros), replayed.get(key, zeros))
        for key in sorted(stored.keys() | replayed.keys())
        if stored.get(key) != replayed.get(key)
    ]
    return Verification(projection.name, checkpoint.position, len(stored), differences)


def projections_verify() -> list[Verification]:
    return [projection_verify(projection) for projection in PROJECTIONS]


@dataclass(frozen=True)
class StockAsOf:
    """What the books said about a product's stock: as recorded up to ledger position ``position``
    (the record bound, given as that position or as the time ``recorded_at``), at business time
    ``at`` (None: whenever the movements occurred); of one lot, or of all."""

    product: int
    location: int | None
    lot: int | None
    at: datetime | None
    recorded_at: datetime | None
    position: int
    lot_balances: dict[tuple[int, int], Decimal]  # (location id, lot id): quantity, for a product tracked by lot
    balances: dict[int, Decimal]  # location id: quantity (locations that ever held the product, or the lot)

    @property
    def quantity(self) -> Decimal:
        return sum(self.balances.values(), Decimal(0))

    def movements(self) -> QuerySet:
        """The movements that produced it, in ledger order."""
        movements = Movement.objects.filter(product_id=self.product, position__lte=self.position)
        if self.location is not None:
            movements = movements.filter(any_leg(id=self.location))
        if self.lot is not None:
            movements = movements.filter(lot_id=self.lot)
        if self.at is not None:
            movements = movements.filter(occurred_at__lte=self.at)
        return movements.order_by("position")


def stock_as_of(
    *, product: int, location: int | None = None, lot: int | None = None, at: datetime | None = None,
    position: int | None = None, recorded_at: datetime | None = None,
) -> StockAsOf:
    """Stock of a product (at one location, or at each; of one lot, or of each) from the ledger
    alone: what the books said at a record time about a business time.

    The record bound is a ledger position (``position``, inclusive) or a time (``recorded_at``: the
    movements recorded at or before it), at most one of them; either is resolved to a position, never
    past the head, and without either it is the head: every movement recorded so far. Once resolved,
    the answer for that position never changes (the ledger only grows), which is what makes a figure
    reproducible. The business bound ``at`` keeps the movements that occurred at or before it;
    without it, whenever they occurred (as on hand counts them, one dated a few minutes ahead
    included). Each leg is indexed on (product, its location, position) and (product, its location,
    occurred_at), so it reads only the product's own events. A product, location or lot (of that
    product) that does not exist is ``RecordNotFound``, not zero."""
    if position is not None and recorded_at is not None:
        raise ValueError("give at most one of position and recorded_at")
    position = position_recorded_by(recorded_at) if recorded_at is not None else recorded_up_to(position)
    condition = "{product} = %(product)s AND m.position <= %(position)s"
    if at is not None:
        condition += " AND m.occurred_at <= %(at)s"
    if location is not None:
        condition += " AND {location} = %(location)s"
    if lot is not None:
        condition += " AND {lot} = %(lot)s"
    sql = (
        f"SELECT location_id, lot_id, {arithmetic().sum('change')} FROM ({legs_sql(LEDGER, condition)}) legs "
        f"GROUP BY location_id, lot_id ORDER BY location_id, lot_id"
    )
    params = {"product": product, "location": location, "lot": lot, "position": position,
              "at": connection.ops.adapt_datetimefield_value(at)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [(loc, lot_id, from_db(total)) for loc, lot_id, total in cursor.fetchall()]
    if not rows:  # a movement of the product (at the location, of the lot) proves they exist; without one, look
        _refuse_missing(product=product, location=location, lot=lot)
    balances: dict[int, Decimal] = {}
    for loc, _lot, quantity in rows:
        balances[loc] = balances.get(loc, Decimal(0)) + quantity
    if location is not None:
        balances.setdefault(location, from_db(0))
    lot_balances = {(loc, lot_id): quantity for loc, lot_id, quantity in rows if lot_id is not None}
    return StockAsOf(product, location, lot, at, recorded_at, position, lot_balances, balances)


def _refuse_missing(*, product: int, location: int | None, lot: int | None) -> None:
    errors = {}
    if not Product.objects.filter(pk=product).exists():
        errors["product"] = [RecordNotFound.NO_PRODUCT.format(product=product)]
    if location is not None and not Location.objects.filter(pk=location).exists():
        errors["location"] = [RecordNotFound.NO_LOCATION.format(location=location)]
    if lot is not None and not Lot.objects.filter(pk=lot, product_id=product).exists():
        errors["lot"] = [RecordNotFound.NO_LOT_ID.format(lot=lot, product=product)]
    if errors:
        raise RecordNotFound(errors)
