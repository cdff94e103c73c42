"""A random ledger for the reports' tests, and the report worked out of it in Python.

The fold reads the movements one by one and files each leg by its kind and sign, written out here
(not taken from ``reports.selectors``): the tests check that code against it.
"""
import random
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from common.errors import DomainError
from ledger.models import Movement
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post
from tests.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.replay import legs_of

FLOW_NAMES = ("receipts", "issues", "transfers_in", "transfers_out", "count_gains", "count_losses", "reversals")


def random_ledger(rng: random.Random, user, *, movements: int = 160, days: int = 60):
    """Two warehouses of two locations, three products, and ``movements`` attempts at receipts,
    issues, transfers, counts and reversals, most of them backdated at random within ``days``
    before now (refusals are skipped). Returns (products, warehouses, locations, first day)."""
    warehouses = [WarehouseFactory(), WarehouseFactory()]
    locations = [LocationFactory(warehouse=w) for w in warehouses for _ in range(2)]
    products = [ProductFactory() for _ in range(3)]
    first = (timezone.now() - timedelta(days=days)).replace(microsecond=0)
    for _ in range(movements):
        occurred = first + timedelta(seconds=rng.randrange(days * 86400))
        if rng.random() < 0.1 and Movement.objects.exists():
            target = rng.choice(list(Movement.objects.filter(kind__in=["receipt", "issue", "transfer", "count"])))
            body = {"occurred_at": max(occurred, target.occurred_at).isoformat()}
            new = parse_reversal(body, movement_id=target.pk)
        else:
            new = parse_movement({**_random_body(rng, products, locations), "occurred_at": occurred.isoformat()})
        try:
            movement_post(user=user, movement=new)
        except DomainError:
            pass
    return products, warehouses, locations, first


def _random_body(rng, products, locations) -> dict:
    product = rng.choice(products).pk
    here, there = rng.sample(locations, 2)
    quantity = str(Decimal(rng.randint(1, 3000)) / 100)
    kind = rng.choices(["receipt", "issue", "transfer", "count"], weights=[5, 3, 3, 2])[0]
    if kind == "transfer":
        return {"kind": kind, "product": product, "from_location": here.pk, "to_location": there.pk, "quantity": quantity}
    if kind == "count":
        return {"kind": kind, "product": product, "location": here.pk, "counted_quantity": str(rng.randint(0, 40))}
    return {"kind": kind, "product": product, "location": here.pk, "quantity": quantity}


def fold(*, start: datetime, end: datetime, position: int | None = None, keep=lambda product, location: True) -> dict:
    """{(product, location): {"opening", flows..., "closing", "movements"}} over [start, end), for
    the pairs ``keep`` keeps that held stock at the start or moved in the period."""
    rows = defaultdict(lambda: {name: Decimal(0) for name in ("opening", *FLOW_NAMES, "closing")} | {"movements": 0})
    movements = Movement.objects.filter(occurred_at__lt=end).order_by("position")
    if position is not None:
        movements = movements.filter(position__lte=position)
    for movement in movements:
        for location, change in legs_of(movement):
            if not keep(movement.product_id, location):
                continue
            row = rows[movement.product_id, location]
            row["closing"] += change
            if movement.occurred_at < start:
                row["opening"] += change
                continue
            row["movements"] += 1
            if movement.kind == "reversal":
                row["reversals"] += change
            elif movement.kind == "receipt":
                row["receipts"] += change
            elif movement.kind == "issue":
                row["issues"] -= change
            elif change > 0:
                row[f"{'transfers_in' if movement.kind == 'transfer' else 'count_gains'}"] += change
            else:
                row[f"{'transfers_out' if movement.kind == 'transfer' else 'count_losses'}"] -= change
    return {key: row for key, row in rows.items() if row["opening"] or row["movements"] or row["closing"]}
