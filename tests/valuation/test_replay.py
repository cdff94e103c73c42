"""The valuation projection equals a fresh replay: random costed ledgers (hypothesis) with
backdated movements, reversals, transfers between two warehouses, both methods, caught up in
random chunks and rebuilt; as of ten random dates and positions; a backdated receipt re-values
its product alone, and settles."""
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from common.errors import DomainError
from ledger.models import Movement, StockLevel
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post
from tests.factories import LocationFactory, ProductFactory, WarehouseFactory
from valuation import engine
from valuation.models import Backdating, CostEntry, ProductValuation
from valuation.selectors import valuation_on_hand, valuation_verify
from valuation.services import (
    EVENT_FIELDS, product_events, valuation_catch_up, valuation_rebuild, warehouses_of_locations,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture
def world(db):
    main, east = WarehouseFactory(code="MAIN"), WarehouseFactory(code="EAST")
    locations = [LocationFactory(warehouse=main, code="A"), LocationFactory(warehouse=main, code="B"),
                 LocationFactory(warehouse=east, code="E")]
    products = [ProductFactory(sku="FIFO", valuation_method="fifo"), ProductFactory(sku="AVG", valuation_method="average")]
    return [p.pk for p in products], [l.pk for l in locations]


def _steps(products, locations):
    product, location = st.sampled_from(products), st.sampled_from(locations)
    day = st.integers(0, 60)
    quantity = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(40), places=3)
    cost = st.one_of(st.none(), st.decimals(min_value=Decimal(0), max_value=Decimal(99), places=4))
    at = day.map(lambda d: (START + timedelta(days=d)).isoformat())
    receipt = st.builds(lambda p, l, q, c, t: {"kind": "receipt", "product": p, "location": l, "quantity": str(q), "occurred_at": t,
                                               **({"unit_cost": str(c)} if c is not None else {})}, product, location, quantity, cost, at)
    issue = st.builds(lambda p, l, q, t: {"kind": "issue", "product": p, "location": l, "quantity": str(q), "occurred_at": t},
                      product, location, quantity, at)
    transfer = st.builds(lambda p, ls, q, t: {"kind": "transfer", "product": p, "from_location": ls[0], "to_location": ls[1],
                                              "quantity": str(q), "occurred_at": t},
                         product, st.lists(location, min_size=2, max_size=2, unique=True), quantity, at)
    count = st.builds(lambda p, l, q, t: {"kind": "count", "product": p, "location": l, "counted_quantity": str(q), "occurred_at": t},
                      product, location, st.decimals(min_value=Decimal(0), max_value=Decimal(30), places=3), at)
    return st.one_of(receipt, receipt, receipt, issue, issue, transfer, transfer, count,
                     st.tuples(st.just("reverse"), st.integers(0, 10**6), st.integers(0, 5)),
                     st.tuples(st.just("catch up"), st.sampled_from([1, 3, 50_000])),
                     st.just(("rebuild",)))


def _play(user, plan) -> None:
    for step in plan:
        try:
            if isinstance(step, dict):
                movement_post(user=user, movement=parse_movement(step))
            elif step[0] == "reverse":
                ids = list(Movement.objects.filter(kind__in=["receipt", "issue", "transfer", "count"]).values_list("pk", flat=True))
                if ids:
                    original = Movement.objects.get(pk=ids[step[1] % len(ids)])
                    at = (original.occurred_at + timedelta(days=step[2])).isoformat()
                    movement_post(user=user, movement=parse_reversal({"occurred_at": at}, movement_id=original.pk))
            elif step[0] == "catch up":
                valuation_catch_up(chunk=step[1])
            else:
                valuation_rebuild()
        except DomainError:
            pass


def replay(*, upto: int | None = None, as_of: datetime | None = None) -> dict:
    """A fresh replay of the ledger (up to a position, dated up to a time), from nothing: quantity
    and value per product and warehouse, COGS per product."""
    warehouse_of = warehouses_of_locations()
    on_hand, cogs = {}, defaultdict(Decimal)
    for product, method in ProductFactory._meta.model.objects.values_list("id", "valuation_method"):
        movements = Movement.objects.filter(product_id=product)
        if upto is not None:
            movements = movements.filter(position__lte=upto)
        if as_of is not None:
            movements = movements.filter(occurred_at__lte=as_of)
        events = [engine.Event(*row) for row in movements.values_list(*EVENT_FIELDS)]
        state, entries = engine.value_product(method, events, warehouse_of)
        for warehouse, pool in state.pools.items():
            if pool.quantity or pool.value:
                on_hand[(product, warehouse)] = (pool.quantity, pool.value)
        cogs[product] = sum((e.cogs for e in entries), Decimal(0))
    return on_hand


def stored(**kwargs) -> dict:
    rows = valuation_on_hand(group_by="warehouse", **kwargs)  # per warehouse over products: check per product too
    per_product = {}
    for product in ProductFactory._meta.model.objects.values_list("id", flat=True):
        for row in valuation_on_hand(group_by="warehouse", product=product, **kwargs):
            per_product[(product, row["warehouse_id"])] = (row["quantity"], row["value"])
    totals = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (_, warehouse), (q, v) in per_product.items():
        totals[warehouse][0] += q
        totals[warehouse][1] += v
    assert {row["warehouse_id"]: (row["quantity"], row["value"]) for row in rows} == {
        w: tuple(t) for w, t in totals.items() if any(t)}
    return per_product


def _check_against_replay():
    assert stored() == replay()
    verification = valuation_verify()
    assert not verification.differences, verification.differences
    # the valuation's quantities are the ledger's: per location, as the posting guard has them
    quantities = defaultdict(Decimal)
    for product, location, quantity in CostEntry.objects.values_list("product_id", "location_id", "quantity"):
        quantities[(product, location)] += quantity
    guard = defaultdict(Decimal)
    for level in StockLevel.objects.all():
        guard[(level.product_id, level.location_id)] += level.quantity
    assert {k: v for k, v in quantities.items() if v} == {k: v for k, v in guard.items() if v}


def test_the_projection_equals_a_replay_on_random_costed_ledgers(clerk, world):
    products, locations = world

    @PROPERTY
    @given(plan=st.lists(_steps(products, locations), min_size=5, max_size=60), chunk=st.sampled_from([2, 7, 50_000]))
    def ledger(plan, chunk):
        note(f"plan {plan!r} chunk {chunk}")
        with transaction.atomic():
            try:
                _play(clerk, plan)
                valuation_catch_up(chunk=chunk)
                _check_against_replay()
                valuation_rebuild()
                _check_against_replay()
            finally:
                transaction.set_rollback(True)

    ledger()


def _random_ledger(clerk, world, seed: int, steps: int = 250) -> None:
    rng = random.Random(seed)
    products, locations = world
    plan = []
    for _ in range(steps):
        p, here, there = rng.choice(products), *rng.sample(locations, 2)
        at = (START + timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600))).isoformat()
        kind = rng.choices(["receipt", "issue", "transfer", "count", "reverse"], weights=[5, 4, 3, 1, 1])[0]
        q = str(Decimal(rng.randint(1, 3000)) / 100)
        if kind == "receipt":
            plan.append({"kind": kind, "product": p, "location": here, "quantity": q, "occurred_at": at,
                         **({"unit_cost": str(Decimal(rng.randint(0, 99999)) / 1000)} if rng.random() < 0.85 else {})})
        elif kind == "issue":
            plan.append({"kind": kind, "product": p, "location": here, "quantity": q, "occurred_at": at})
        elif kind == "transfer":
            plan.append({"kind": kind, "product": p, "from_location": here, "to_location": there, "quantity": q, "occurred_at": at})
        elif kind == "count":
            plan.append({"kind": kind, "product": p, "location": here, "counted_quantity": str(rng.randint(0, 30)), "occurred_at": at})
        else:
            plan.append(("reverse", rng.randint(0, 10**6), rng.randint(0, 3)))
        if rng.random() < 0.05:
            plan.append(("catch up", rng.choice([1, 5, 50_000])))
    _play(clerk, plan)


def test_as_of_ten_random_dates_and_positions_equals_a_replay(clerk, world):
    _random_ledger(clerk, world, seed=15)
    valuation_catch_up()
    assert Backdating.objects.exists()  # the ledger has backdated movements: positions need replays
    rng = random.Random(1515)
    head = Movement.objects.count()
    for _ in range(10):
        as_of = START + timedelta(days=rng.randint(0, 95), hours=rng.randint(0, 23))
        position = rng.randint(1, head)
        assert stored(as_of=as_of) == replay(as_of=as_of), as_of
        assert stored(position=position) == replay(upto=position), position
        assert stored(as_of=as_of, position=position) == replay(upto=position, as_of=as_of), (as_of, position)


def test_a_movement_dated_before_another_of_the_same_catch_up_keeps_every_entry(clerk, world):
    """Found by the property above on PostgreSQL: of receipts on day 1, 1, 2 and 1, applied in one
    catch-up, the last is backdated; the first two must not lose their entries to its re-valuation."""
    fifo, _ = world[0]
    for day in (1, 1, 2, 1):
        movement_post(user=clerk, movement=parse_movement({
            "kind": "receipt", "product": fifo, "location": world[1][0], "quantity": "0.001",
            "occurred_at": (START + timedelta(days=day)).isoformat(),
        }))
    valuation_catch_up()
    assert CostEntry.objects.filter(product_id=fifo).count() == 4
    _check_against_replay()


def test_a_backdated_receipt_revalues_its_product_alone_and_settles(clerk, world):
    products, locations = world
    fifo, average = products
    _random_ledger(clerk, world, seed=7, steps=150)
    valuation_catch_up()
    untouched = list(CostEntry.objects.filter(product_id=average).order_by("id").values_list("id", "movement_id", "value", "cogs"))
    recomputed = ProductValuation.objects.get(product_id=average).recomputed_at
    first = Movement.objects.filter(product_id=fifo).order_by("occurred_at").first()
    backdated = movement_post(user=clerk, movement=parse_movement({
        "kind": "receipt", "product": fifo, "location": locations[0], "quantity": "5", "unit_cost": "0.0100",
        "occurred_at": (first.occurred_at - timedelta(days=1)).isoformat(),
    })).movement
    before = dict(CostEntry.objects.filter(product_id=fifo).values_list("movement_id", "cogs"))
    assert valuation_catch_up() == 1
    # the other product's entries are the same rows, not rewritten
    assert list(CostEntry.objects.filter(product_id=average).order_by("id").values_list("id", "movement_id", "value", "cogs")) == untouched
    assert ProductValuation.objects.get(product_id=fifo).recomputed_at is not None
    assert ProductValuation.objects.get(product_id=average).recomputed_at == recomputed
    assert Backdating.objects.filter(product_id=fifo, position=backdated.pk).exists()
    # its product is re-valued from then on: the cheap layer is now the oldest, so later issues cost less
    after = dict(CostEntry.objects.filter(product_id=fifo).values_list("movement_id", "cogs"))
    assert sum(after.values()) < sum(before.values())
    _check_against_replay()
