"""The expiry report: the lots with stock that expire within N days of today, per location, with
quantity and value at price, first-expiring first; lots that have already expired are in it too,
flagged (their ``days_left`` is negative), for they are still on the shelf.

Today is the books' day (``ledger.lots.business_day``, the day FEFO judges expiry by), so a lot
the report shows as expired is one posting would not allocate. Stock is the lot projection
(``projections.models.LotStock``); the answer names the ledger position it reflects. A lot without
an expiry date never expires and is never in it. Value is quantity times the product's price, each
line rounded to the ten-thousandth half up as receipts' values are (``projections.exact``), the
totals the sums of the lines.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from ledger.lots import business_day
from projections.definitions import LOT
from projections.exact import MONEY_QUANTUM
from projections.models import Checkpoint, LotStock

from .selectors import Scope

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ExpiryRow:
    product: int
    sku: str
    name: str
    unit: str
    lot: int
    lot_code: str
    expires_on: date
    days_left: int  # from today to its expiry date; negative once it has expired
    location: int
    location_label: str  # "WAREHOUSE/CODE"
    warehouse: int
    quantity: Decimal
    unit_price: Decimal
    value: Decimal

    @property
    def expired(self) -> bool:
        return self.days_left < 0


@dataclass(frozen=True)
class ExpiryTotal:
    rows: int
    lots: int
    quantity: Decimal  # over every product and unit: a check figure
    value: Decimal

    @classmethod
    def of(cls, rows: list[ExpiryRow]) -> "ExpiryTotal":
        return cls(
            len(rows), len({row.lot for row in rows}),
            sum((row.quantity for row in rows), Decimal(0)), sum((row.value for row in rows), Decimal(0)),
        )


@dataclass(frozen=True)
class ExpiryReport:
    today: date
    within_days: int
    through: date  # the last expiry date in it: today + within_days
    position: int  # the ledger position the lot stock reflects
    scope: Scope
    rows: list[ExpiryRow]  # by expiry date, then SKU, lot code and location
    total: ExpiryTotal
    expired: ExpiryTotal  # the rows of lots that have expired


def expiry_report(*, within_days: int = DEFAULT_DAYS, scope: Scope = Scope()) -> ExpiryReport:
    """The lots of ``scope`` with stock expiring by today + ``within_days`` (those expired included)."""
    scope.refuse_missing()
    today = business_day(timezone.now())
    through = today + timedelta(days=within_days)
    position = Checkpoint.objects.filter(name=LOT.name).values_list("position", flat=True).first() or 0
    stock = LotStock.objects.filter(quantity__gt=0, lot__expires_on__lte=through).select_related(
        "lot", "product", "location__warehouse"
    )
    if scope.product is not None:
        stock = stock.filter(product_id=scope.product)
    if scope.location is not None:
        stock = stock.filter(location_id=scope.location)
    if scope.warehouse is not None:
        stock = stock.filter(location__warehouse_id=scope.warehouse)
    rows = [
        ExpiryRow(
            s.product_id, s.product.sku, s.product.name, s.product.unit, s.lot_id, s.lot.code, s.lot.expires_on,
            (s.lot.expires_on - today).days, s.location_id, str(s.location), s.location.warehouse_id,
            s.quantity, s.product.unit_price,
            (s.quantity * s.product.unit_price).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP),
        )
        for s in stock
    ]
    rows.sort(key=lambda row: (row.expires_on, row.sku, row.lot_code, row.location_label))
    expired = [row for row in rows if row.expired]
    return ExpiryReport(today, within_days, through, position, scope, rows, ExpiryTotal.of(rows), ExpiryTotal.of(expired))
