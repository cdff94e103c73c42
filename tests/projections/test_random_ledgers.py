"""Random sequences of hundreds of movements: every projection equals a fresh replay."""
import random
from decimal import Decimal

import pytest

from ledger.errors import AlreadyReversed, InsufficientStock, ReversalNotAllowed
from ledger.models import Movement, StockLevel
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post
from projections.selectors import projections_verify
from projections.services import projections_catch_up, projections_rebuild
from tests.factories import LocationFactory, ProductFactory
from tests.replay import replay_in_python, stored

pytestmark = pytest.mark.django_db


def random_movement(rng: random.Random, products, locations) -> dict:
    product = rng.choice(products).pk
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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_projections_equal_a_fresh_replay_after_random_postings(seed, clerk, warehouse):
    rng = random.Random(seed)
    products = [ProductFactory() for _ in range(4)]
    locations = [LocationFactory(warehouse=warehouse) for _ in range(4)]
    refused = 0
    for step in range(300):
        try:
            if rng.random() < 0.08 and Movement.objects.exists():
                target = rng.choice(list(Movement.objects.values_list("pk", flat=True)))
                movement_post(user=clerk, movement=parse_reversal({}, movement_id=target))
            else:
                movement_post(user=clerk, movement=parse_movement(random_movement(rng, products, locations)))
        except (InsufficientStock, AlreadyReversed, ReversalNotAllowed):
            refused += 1
        if rng.random() < 0.1:
            projections_catch_up()
        if rng.random() < 0.02:
            projections_rebuild()
    projections_catch_up()

    expected = replay_in_python()
    assert stored() == expected
    assert all(not result.differences for result in projections_verify())
    guard = {(s.product_id, s.location_id): s.quantity for s in StockLevel.objects.all() if s.quantity}
    assert guard == expected["pair"]
    assert all(quantity > 0 for quantity in guard.values())
    assert Movement.objects.count() + refused == 300
