"""Random ledgers across the whole accepted domain (its largest quantities and costs included),
posted through the service: after a catch-up, and again after a rebuild, every projection equals
an independent replay in Python, verification finds no difference, the stock endpoints answer, and
no projection is left behind the ledger's head.

One allowance, and only on SQLite, which stores at most 15 significant digits of a decimal: a
projection summing over many rows (per product, per location) may stop with its reason on its
checkpoint when its totals could need more digits than that; it must then hold back none of the
others. The per product-location projection never may: its rows are on-hand balances, bounded by
the domain.
"""
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import event as _event
from hypothesis import note as _note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from catalog.models import MAX_UNIT_MONEY
from common.errors import DomainError
from ledger.models import LedgerHead, Movement
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post
from projections import definitions, selectors, services
from projections.models import Checkpoint, LocationStock, ProductLocationStock, ProductStock
from tests.factories import LocationFactory, ProductFactory
from tests.replay import legs_of, replay_in_python, stored

from .domain import COST_MAX, QUANTITY_MAX

pytestmark = pytest.mark.django_db


def note(text: str) -> None:
    """Hypothesis's note inside a property, a print elsewhere (pytest shows it on failure)."""
    _note(text) if currently_in_test_context() else print(text)


def event(text: str) -> None:
    if currently_in_test_context():
        _event(text)

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
SQLITE_QUANTITY_ROOM = Decimal(10) ** 12  # any total below it, in thousandths, has at most 15 digits
SQLITE_MONEY_ROOM = Decimal(10) ** 11  # the same in ten-thousandths
LARGEST_PRICE = MAX_UNIT_MONEY  # the catalog's largest unit price

quantities = st.one_of(
    st.sampled_from([Decimal("0.001"), Decimal("0.1"), Decimal(1), QUANTITY_MAX, QUANTITY_MAX - Decimal("0.001"),
                     (QUANTITY_MAX / 2).quantize(Decimal("0.001")), Decimal("333333333333.333")]),
    st.decimals(min_value=Decimal("0.001"), max_value=QUANTITY_MAX, places=3),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(50), places=3),
)
costs = st.one_of(
    st.none(),
    st.sampled_from([Decimal(0), Decimal("0.0001"), Decimal("0.3333"), Decimal("0.6667"), COST_MAX]),
    st.decimals(min_value=Decimal(0), max_value=COST_MAX, places=4),
    st.decimals(min_value=Decimal(0), max_value=Decimal(10), places=4),
)
small = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(20), places=3)
counts = st.one_of(st.sampled_from([Decimal(0), QUANTITY_MAX]), quantities)


def steps(products: list[int], locations: list[int]):
    product, location = st.sampled_from(products), st.sampled_from(locations)
    two_locations = st.lists(location, min_size=2, max_size=2, unique=True)
    receipt = st.builds(lambda p, l, q, c: {"kind": "receipt", "product": p, "location": l, "quantity": str(q),
                                            **({"unit_cost": str(c)} if c is not None else {})},
                        product, location, quantities, costs)
    taken = st.one_of(small, small, quantities)  # what leaves a location: mostly what is likely there
    issue = st.builds(lambda p, l, q: {"kind": "issue", "product": p, "location": l, "quantity": str(q)}, product, location, taken)
    transfer = st.builds(lambda p, ls, q: {"kind": "transfer", "product": p, "from_location": ls[0], "to_location": ls[1],
                                           "quantity": str(q)}, product, two_locations, taken)
    count = st.builds(lambda p, l, q: {"kind": "count", "product": p, "location": l, "counted_quantity": str(q)},
                      product, location, counts)
    return st.one_of(
        receipt, receipt, receipt, receipt, issue, issue, transfer, transfer, count,
        st.integers(0, 10**6).map(lambda n: ("reverse", n)),
        st.just(("catch up",)), st.just(("rebuild",)),
    )


def post_all(user, plan) -> int:
    """Post the plan's movements (refusals are part of the game); return how many were refused."""
    refused = 0
    for step in plan:
        try:
            if isinstance(step, dict):
                movement_post(user=user, movement=parse_movement(step))
            elif step[0] == "reverse":
                ids = list(Movement.objects.order_by("position").values_list("pk", flat=True))
                if ids:
                    movement_post(user=user, movement=parse_reversal({}, movement_id=ids[step[1] % len(ids)]))
            elif step[0] == "catch up":
                services.projections_catch_up()
            else:
                rebuild_each()
        except DomainError:
            refused += 1
    return refused


# ---------------------------------------------------------------- the independent replay


def _round_money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def valuation_in_python() -> dict[int, tuple[Decimal, Decimal]]:
    """(received quantity, received value) per product: receipts carrying a unit cost, each valued
    at quantity times cost to the ten-thousandth, net of their reversals."""
    totals = defaultdict(lambda: [Decimal(0), Decimal(0)])
    by_id = {m.pk: m for m in Movement.objects.all()}
    for movement in by_id.values():
        original, sign = movement, 1
        if movement.kind == "reversal":
            original, sign = by_id[movement.reverses_id], -1
        if original.kind == "receipt" and original.unit_cost is not None:
            totals[movement.product_id][0] += sign * original.quantity
            totals[movement.product_id][1] += sign * _round_money(original.quantity * original.unit_cost)
    return {product: (q, v) for product, (q, v) in totals.items() if q or v}


def valuation_stored() -> dict[int, tuple[Decimal, Decimal]]:
    rows = ProductStock.objects.values_list("product_id", "received_quantity", "received_value")
    return {product: (q, v) for product, q, v in rows if q or v}


def may_refuse_on_sqlite() -> set[str]:
    """The projections whose totals could need more than 15 significant digits somewhere along
    the ledger: a sum of magnitudes that reaches the room 15 digits leave."""
    if connection.vendor != "sqlite":
        return set()
    by_location, by_product, received, value = (defaultdict(Decimal) for _ in range(4))
    for movement in Movement.objects.select_related("reverses"):
        for location, change in legs_of(movement):
            by_location[location] += abs(change)
        if movement.to_location_id is None:
            by_product[movement.product_id] += abs(movement.delta)
        original = movement.reverses if movement.kind == "reversal" else movement
        if original.kind == "receipt" and original.unit_cost is not None:
            received[movement.product_id] += original.quantity
            value[movement.product_id] += _round_money(original.quantity * original.unit_cost)
    refusing = set()
    if any(total >= SQLITE_QUANTITY_ROOM for total in by_location.values()):
        refusing.add(definitions.LOCATION.name)
    if any(t >= SQLITE_QUANTITY_ROOM for t in (*by_product.values(), *received.values())) or any(
            t >= SQLITE_MONEY_ROOM for t in value.values()):
        refusing.add(definitions.PRODUCT.name)
    return refusing


# ---------------------------------------------------------------- the checks


def rebuild_each() -> set[str]:
    """Rebuild every projection on its own; return the names of those that failed."""
    failed = set()
    for projection in definitions.PROJECTIONS:
        try:
            with transaction.atomic():
                services.projection_rebuild(projection)
        except DatabaseError as error:
            note(f"rebuild of {projection.name} failed: {error}")
            failed.add(projection.name)
    return failed


def check_projections(failed: set[str], client, when: str) -> None:
    head = LedgerHead.objects.get(pk=1).position
    allowed = may_refuse_on_sqlite()
    checkpoints = {c.name: c for c in Checkpoint.objects.all()}
    behind = {name for name, c in checkpoints.items() if c.position != head} | failed
    note(f"{when}: head {head}, checkpoints { {n: (c.position, c.error[:200]) for n, c in checkpoints.items()} }")
    event(f"{when}: behind on SQLite: {sorted(behind) or 'none'}")
    assert behind <= allowed, f"{when}: left behind the head ({head}): { {n: checkpoints[n].error or 'no error' for n in behind} }"
    for name in behind:
        assert "significant digits" in checkpoints[name].error or name in failed, checkpoints[name].error
    expected, actual = replay_in_python(), stored()
    for part, name in (("pair", definitions.PRODUCT_LOCATION.name), ("product", definitions.PRODUCT.name),
                       ("location", definitions.LOCATION.name)):
        if name not in behind:
            assert actual[part] == expected[part], f"{when}: {name} differs from a replay"
    if definitions.PRODUCT.name not in behind:
        assert valuation_stored() == valuation_in_python(), f"{when}: received quantity and value differ from a replay"
    for projection in definitions.PROJECTIONS:
        if projection.name in behind:
            continue
        verification = selectors.projection_verify(projection)
        assert not verification.differences, f"{when}: {projection.name}: {verification.differences[:5]}"
    status = client.get("/api/v1/stock/status/")
    assert status.status_code == 200, status.content[:500]
    for row in status.json():
        assert row["lag_events"] == 0 or row["name"] in behind, row
    for url in ("/api/v1/stock/?include_zero=true", "/api/v1/stock/by-product/?include_zero=true",
                "/api/v1/stock/by-location/?include_zero=true"):
        try:
            response = client.get(url)
        except Exception as exc:  # the test client re-raises what the view raised: a 500
            raise AssertionError(f"{when}: GET {url} raised {type(exc).__name__}: {exc}") from exc
        assert response.status_code == 200, f"{when}: GET {url}: {response.status_code} {response.content[:300]!r}"


@pytest.fixture
def stage(warehouse, clerk, auditor_client):
    """Two products (one at the largest price the catalog takes) and three locations."""
    products = [ProductFactory().pk, ProductFactory(unit_price=LARGEST_PRICE).pk]
    locations = [LocationFactory(warehouse=warehouse).pk for _ in range(3)]
    return clerk, auditor_client, products, locations


def test_projections_equal_a_replay_over_the_whole_domain(stage):
    clerk, client, products, locations = stage

    @PROPERTY
    @given(plan=st.lists(steps(products, locations), min_size=5, max_size=40))
    def ledger(plan):
        note(f"plan: {plan!r}")
        with transaction.atomic():
            try:
                refused = post_all(clerk, plan)
                posted = Movement.objects.count()
                event(f"movements posted: {'0' if not posted else '1-5' if posted <= 5 else '6+'}; refused: {'some' if refused else 'none'}")
                results = services.projections_catch_up()
                note(f"catch-up: {results}")
                check_projections(set(), client, "after catching up")
                check_projections(rebuild_each(), client, "after a rebuild")
            finally:
                transaction.set_rollback(True)

    ledger()


def _raw_quantity(table: str, where: str, params: list):
    """The stored value as the database holds it (no converter to round a residue away)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT quantity FROM {table} WHERE {where}", params)
        return [row[0] for row in cursor.fetchall()]


def test_ten_receipts_of_a_tenth_then_an_issue_of_one_leave_exactly_zero(stage, finance_client):
    clerk, client, products, locations = stage
    product, location = products[0], locations[0]
    for _ in range(10):
        movement_post(user=clerk, movement=parse_movement(
            {"kind": "receipt", "product": product, "location": location, "quantity": "0.1", "unit_cost": "0.1"}))
    movement_post(user=clerk, movement=parse_movement({"kind": "issue", "product": product, "location": location, "quantity": "1"}))

    for how in ("catch-up", "rebuild"):
        if how == "catch-up":
            services.projections_catch_up()
        else:
            assert not rebuild_each()
        pair = _raw_quantity(ProductLocationStock._meta.db_table, "product_id = %s AND location_id = %s", [product, location])
        assert all(value == 0 for value in pair), f"{how}: the product-location row holds {pair!r}, not zero"
        assert all(v == 0 for v in _raw_quantity(ProductStock._meta.db_table, "product_id = %s", [product])), how
        assert all(v == 0 for v in _raw_quantity(LocationStock._meta.db_table, "location_id = %s", [location])), how
        listed = finance_client.get("/api/v1/stock/", {"product": product})
        assert listed.status_code == 200 and listed.json()["results"] == [], (how, listed.content[:300])
        check_projections(set(), client, how)
