"""An independent replay of the ledger in Python, to check the projections' SQL against."""
from collections import defaultdict
from decimal import Decimal

from ledger.models import Movement
from projections.models import LocationStock, LotStock, ProductLocationStock, ProductStock


def replay_in_python(upto: int | None = None) -> dict[str, dict]:
    by_pair, by_product, by_location, by_lot = (defaultdict(Decimal) for _ in range(4))
    movements = Movement.objects.order_by("position")
    if upto is not None:
        movements = movements.filter(position__lte=upto)
    for movement in movements:
        for location, change in legs_of(movement):
            by_pair[(movement.product_id, location)] += change
            by_product[movement.product_id] += change
            by_location[location] += change
            if movement.lot_id is not None:
                by_lot[(movement.product_id, location, movement.lot_id)] += change
    return {
        "pair": _non_zero(by_pair), "product": _non_zero(by_product), "location": _non_zero(by_location),
        "lot": _non_zero(by_lot),
    }


def legs_of(movement) -> list[tuple[int, Decimal]]:
    """(location id, signed change) for each location a movement changed. Written out here, not
    taken from ``ledger.legs``: the replays check that code."""
    legs = [(movement.location_id, movement.delta)]
    if movement.to_location_id is not None:
        legs.append((movement.to_location_id, -movement.delta))
    return legs


def stored() -> dict[str, dict]:
    return {
        "pair": _non_zero({(r.product_id, r.location_id): r.quantity for r in ProductLocationStock.objects.all()}),
        "product": _non_zero({r.product_id: r.quantity for r in ProductStock.objects.all()}),
        "location": _non_zero({r.location_id: r.quantity for r in LocationStock.objects.all()}),
        "lot": _non_zero({(r.product_id, r.location_id, r.lot_id): r.quantity for r in LotStock.objects.all()}),
    }


def _non_zero(totals: dict) -> dict:
    return {key: value for key, value in totals.items() if value}
