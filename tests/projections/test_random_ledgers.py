"""Random sequences of hundreds of movements: every projection equals a fresh replay."""
import random
from types import SimpleNamespace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F, Q, Sum
from django.utils import timezone

from catalog.models import Tracking
from ledger.errors import AlreadyReversed, InsufficientStock, RecordNotFound, ReversalNotAllowed
from ledger.models import Movement, StockLevel
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post
from projections.selectors import projections_verify
from projections.services import projections_catch_up, projections_rebuild
from tests.factories import LocationFactory, ProductFactory
from tests.replay import replay_in_python, stored

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def random_movement(rng: random.Random, products, locations) -> dict:
    product = rng.choice(products)
    body = _untracked_movement(rng, product.pk, locations)
    if product.tracking == Tracking.LOT:
        _name_a_lot(rng, body)
    return body


# A small pool of lots, each with its own dates (a lot's dates are fixed once it is made).
LOT_EXPIRY_DAYS = {"L-A": 3, "L-B": 10, "L-C": 10, "L-D": None, "L-E": 40}


def _name_a_lot(rng: random.Random, body: dict) -> None:
    """Receipts and counts name a lot; issues and transfers name one half the time, else FEFO picks."""
    if body["kind"] in ("receipt", "count") or rng.random() < 0.5:
        code = rng.choice(list(LOT_EXPIRY_DAYS))
        body["lot"] = code
        days = LOT_EXPIRY_DAYS[code]
        if body["kind"] in ("receipt", "count") and days is not None:
            body["expires_on"] = (TODAY + timedelta(days=days)).isoformat()


def _untracked_movement(rng: random.Random, product: int, locations) -> dict:
    quantity = str(Decimal(rng.randint(1, 4000)) / 100)
    here, there = rng.sample(locations, 2)
    kind = rng.choices(["receipt", "issue", "transfer", "count"], weights=[4, 3, 3, 1])[0]
    if kind == "transfer":
        return {"kind": kind, "product": product, "from_location": here.pk, "to_location": there.pk, "quantity": quantity}
    if kind == "count":
        return {"kind": kind, "product": product, "location": here.pk, "counted_quantity": str(Decimal(rng.randint(0, 30)))}
    body = {"kind": kind, "product": product, "location": here.pk, "quantity": quantity}
    if kind == "receipt" and rng.random() < 0.7:
        body["unit_cost"] = str(Decimal(rng.randint(1, 999)) / 100)
    return body


@pytest.mark.parametrize(("seed", "tracked"), [(1, 0), (2, 0), (3, 0), (4, 2), (5, 3)])
def test_projections_equal_a_fresh_replay_after_random_postings(seed, tracked, clerk, warehouse):
    """Seeds 4 and 5 track some products by lot: lots named and allocated first-expiring first,
    split across lots, reversed whole; stock per lot equals the replay too."""
    rng = random.Random(seed)
    products = [ProductFactory(tracking=Tracking.LOT if i < tracked else Tracking.NONE) for i in range(4)]
    locations = [LocationFactory(warehouse=warehouse) for _ in range(4)]
    refused = 0
    for step in range(300):
        try:
            if rng.random() < 0.08 and Movement.objects.exists():
                target = rng.choice(list(Movement.objects.values_list("pk", flat=True)))
                movement_post(user=clerk, movement=parse_reversal({}, movement_id=target))
            else:
                movement_post(user=clerk, movement=parse_movement(random_movement(rng, products, locations)))
        except (InsufficientStock, AlreadyReversed, ReversalNotAllowed, RecordNotFound):  # a lot named before it is made
            refused += 1
        if rng.random() < 0.1:
            projections_catch_up()
        if rng.random() < 0.02:
            projections_rebuild()
    projections_catch_up()

    expected = replay_in_python()
    assert stored() == expected
    assert all(not result.differences for result in projections_verify())
    guard = _guarded(StockLevel.objects.filter(lot__isnull=True))
    guard.update(_guarded(_pairs_of_lots()))
    assert guard == expected["pair"]
    assert all(quantity > 0 for quantity in guard.values())
    lots = {(s.product_id, s.location_id, s.lot_id): s.quantity for s in StockLevel.objects.filter(lot__isnull=False) if s.quantity}
    assert lots == expected["lot"]
    assert all(quantity > 0 for quantity in lots.values())
    splits = Movement.objects.filter(allocation__isnull=False).exclude(allocation=F("pk"))
    assert bool(tracked) == bool(expected["lot"]) == splits.exists()
    postings = Movement.objects.filter(Q(allocation__isnull=True) | Q(allocation=F("pk")))  # a split's first event stands for it
    assert postings.count() + refused == 300


def _guarded(rows) -> dict:
    return {(s.product_id, s.location_id): s.quantity for s in rows if s.quantity}


def _pairs_of_lots():
    """The guard rows of lots, summed per product and location (a tracked product's stock)."""
    totals = StockLevel.objects.filter(lot__isnull=False).values("product_id", "location_id").annotate(quantity=Sum("quantity"))
    return [SimpleNamespace(**row) for row in totals]
