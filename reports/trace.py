"""A lot's trace: every movement of it from its first (the receipt that made it, as a rule) in
ledger order, and where its stock is now. A recall's first question: where did this lot go, and
where is what is left of it?

Both come from one read of the ledger, up to the head at the time of the request (the answer names
that position): the stock per location is the sum of the listed movements' legs there
(``ledger.legs``), so the trace and the stock it leaves cannot disagree (nor lag behind, as a
projection may). Reversals of the lot's movements name the lot and are listed too; an issue or
transfer split across lots lists only this lot's event, ``allocation`` naming the posting's first.
"""
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Location, Lot
from ledger.legs import placed_legs
from ledger.models import Movement
from ledger.selectors import recorded_up_to

from .errors import RecordNotFound


@dataclass(frozen=True)
class LotHere:
    location: int
    location_label: str  # "WAREHOUSE/CODE"
    warehouse: int
    quantity: Decimal


@dataclass(frozen=True)
class LotTrace:
    lot: Lot  # with its product
    position: int  # the ledger position read up to
    movements: list[Movement]  # in ledger order, their locations with their warehouses
    stock: list[LotHere]  # where it is on hand now (not zero), by location label

    @property
    def on_hand(self) -> Decimal:
        return sum((here.quantity for here in self.stock), Decimal(0))


def lot_trace(*, lot_id: int, position: int | None = None) -> LotTrace:
    """The trace of lot ``lot_id`` from the movements recorded up to ``position`` (the head if none);
    a lot that is not there is a 404 ``not_found``."""
    lot = Lot.objects.select_related("product").filter(pk=lot_id).first()
    if lot is None:
        raise RecordNotFound({"lot": [RecordNotFound.NO_LOT_ID.format(lot=lot_id)]})
    position = recorded_up_to(position)
    movements = list(
        Movement.objects.filter(lot_id=lot.pk, position__lte=position)
        .select_related("location__warehouse", "to_location__warehouse")
        .order_by("position")
    )
    quantities: dict[int, Decimal] = defaultdict(Decimal)
    locations: dict[int, Location] = {}
    for movement in movements:
        for leg, key in placed_legs(movement):
            quantities[key.location] += leg.change(movement.delta)
            locations[key.location] = getattr(movement, leg.location)
    stock = sorted(
        (LotHere(pk, str(locations[pk]), locations[pk].warehouse_id, quantity) for pk, quantity in quantities.items() if quantity),
        key=lambda here: here.location_label,
    )
    return LotTrace(lot, position, movements, stock)
