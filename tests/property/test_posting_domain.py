"""The posting API over its whole input domain and beyond it (``domain`` holds the domain and the
oracle): nothing answers 5xx; a body inside the domain is posted exactly as the fold of its legs
says (or refused with 409 when the fold goes below zero or above the largest quantity); a body
outside it is refused with 400 naming the field; a refusal changes nothing; every posted row reads
back and the chain verifies.

Each example runs in a savepoint that is rolled back, so every example meets the same ledger.
"""
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ledger.models import LedgerHead, Movement, StockLevel
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post
from ledger.verification import ledger_verify
from tests.factories import LocationFactory, ProductFactory
from tests.replay import legs_of

from . import domain
from .domain import AMOUNT_FIELD, BAD, EITHER, OK, QUANTITY_MAX, Body, Value

pytestmark = pytest.mark.django_db

MOVEMENTS = "/api/v1/movements/"
SEED_TIME = "1970-01-02T00:00:00Z"  # every seeded movement: anything inside the domain is at or after it... almost
SEEDED_AT = datetime(1970, 1, 2, tzinfo=UTC)
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.large_base_example],
)


# ---------------------------------------------------------------- the ledger every example meets


@dataclass
class World:
    client: object
    products: list[int]
    locations: list[int]
    missing: int  # an id no product, location or movement has
    originals: dict[int, Movement]
    last_occurred: dict[tuple[int, int], datetime] = field(default_factory=dict)


@pytest.fixture
def world(clerk, clerk_client, warehouse) -> World:
    """Two products (one stocked), three locations, and five movements dated 1970-01-02: a
    receipt of 100 at A (90 left after a transfer of 10 to C), a receipt that leaves B five units
    short of the largest quantity, and a receipt at C with its reversal."""
    stocked, empty = ProductFactory(), ProductFactory()
    a, b, c = (LocationFactory(warehouse=warehouse).pk for _ in range(3))
    p = stocked.pk

    def post(**fields):
        return movement_post(user=clerk, movement=parse_movement({**fields, "occurred_at": SEED_TIME})).movement

    post(kind="receipt", product=p, location=a, quantity="100", unit_cost="2.5")
    post(kind="receipt", product=p, location=b, quantity=str(QUANTITY_MAX - 5))
    post(kind="transfer", product=p, from_location=a, to_location=c, quantity="10")
    receipt = post(kind="receipt", product=p, location=c, quantity="7")
    movement_post(user=clerk, movement=parse_reversal({"occurred_at": SEED_TIME}, movement_id=receipt.pk))
    originals = {m.pk: m for m in Movement.objects.select_related("reversed_by")}
    missing = max([p, empty.pk, a, b, c, *originals]) + 1000
    return World(clerk_client, [p, empty.pk], [a, b, c], missing, originals,
                 {(p, location): SEEDED_AT for location in (a, b, c)})


@dataclass(frozen=True)
class Snapshot:
    movements: int
    head: tuple[int, str]
    guard: dict


def snapshot() -> Snapshot:
    head = LedgerHead.objects.get(pk=1)
    guard = {(s.product_id, s.location_id): s.quantity for s in StockLevel.objects.all()}
    return Snapshot(Movement.objects.count(), (head.position, head.hash), guard)


def in_savepoint(check):
    """Run ``check`` in a savepoint that is always rolled back: every example meets the same ledger."""
    with transaction.atomic():
        try:
            check()
        finally:
            transaction.set_rollback(True)


def send(client, url: str, body):
    """POST ``body`` as JSON written by ``json.dumps`` (ASCII, so unpaired surrogates travel as escapes)."""
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- the fold


@dataclass
class Fold:
    refused: set[str]  # "insufficient", "overflow"
    backdated: bool  # dated before a later movement of a pair it touches (or its date is unknown)
    guard: dict
    balances: list[list[Decimal]]


def fold(world: World, guard: dict, steps: list[tuple[int, list[tuple[int, Decimal]], datetime | None]], now) -> Fold:
    """Apply each step's legs ((location, change); a count's change is ``None``: its amount is
    the count) in order, as the posting service must."""
    on_hand = defaultdict(Decimal, guard)
    last = dict(world.last_occurred)
    result = Fold(set(), False, {}, [])
    for product, legs, occurred in steps:
        balances = []
        for location, change, counted in legs:
            key = (product, location)
            if counted is not None:
                change = counted - on_hand[key]
            if occurred is None or (key in last and occurred < last[key]):
                result.backdated = True
            on_hand[key] += change
            if on_hand[key] < 0:
                result.refused.add("insufficient")
            if on_hand[key] > QUANTITY_MAX:
                result.refused.add("overflow")
            if occurred is not None:
                last[key] = max(last.get(key, occurred), occurred)
            balances.append(on_hand[key])
        result.balances.append(balances)
    result.guard = dict(on_hand)
    return result


def movement_step(world: World, body: Body, now: datetime):
    """The body's (product, legs, business time) if every value it carries is known, else None."""
    kind = body.kind
    product = body.value("product")
    amount = body.value(AMOUNT_FIELD[kind])
    locations = [body.value(name) for name in domain.LOCATION_FIELDS[kind]]
    if product not in world.products or amount is None or any(loc not in world.locations for loc in locations):
        return None
    occurred_at = body.fields.get("occurred_at")
    occurred = occurred_at.value if occurred_at is not None and occurred_at.given else now
    if kind == "receipt":
        legs = [(locations[0], amount, None)]
    elif kind == "issue":
        legs = [(locations[0], -amount, None)]
    elif kind == "transfer":
        legs = [(locations[0], -amount, None), (locations[1], amount, None)]
    else:
        legs = [(locations[0], None, amount)]
    return product, legs, occurred


# ---------------------------------------------------------------- what every answer must satisfy


def check_error_shape(response) -> dict:
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    return body


def check_nothing_changed(before: Snapshot) -> None:
    after = snapshot()
    assert after == before, f"a refused request changed the ledger: {before} -> {after}"


def check_posted(before: Snapshot, movements: list[dict], client) -> None:
    """Any 2xx: the ledger grew by exactly these movements, the guard rows by exactly their legs,
    every value is inside the domain, and each row reads back and verifies."""
    after = snapshot()
    n = len(movements)
    assert after.movements == before.movements + n
    assert after.head[0] == before.head[0] + n
    assert [m["position"] for m in movements] == list(range(before.head[0] + 1, before.head[0] + n + 1))
    expected = defaultdict(Decimal, before.guard)
    for m in movements:
        expected[(m["product"], m["location"])] += Decimal(m["delta"])
        if m["to_location"] is not None:
            expected[(m["product"], m["to_location"])] -= Decimal(m["delta"])
    for key in expected.keys() | after.guard.keys():
        assert after.guard.get(key, 0) == expected.get(key, 0), f"guard row {key}: {after.guard.get(key)} != {expected.get(key)}"
        assert 0 <= after.guard.get(key, 0) <= QUANTITY_MAX, f"guard row {key} left the domain: {after.guard.get(key)}"
    now = datetime.now(UTC)
    for m in movements:
        assert Decimal(0) <= Decimal(m["quantity"]) <= QUANTITY_MAX, m
        assert m["unit_cost"] is None or Decimal(0) <= Decimal(m["unit_cost"]) <= domain.COST_MAX, m
        assert domain.EARLIEST <= _time(m["occurred_at"]) <= now + domain.FUTURE_TOLERANCE, m
    listed = client.get(MOVEMENTS, {"position_after": before.head[0]})
    assert listed.status_code == 200, listed.content[:500]
    assert listed.json()["results"] == movements
    for m in movements:
        detail = client.get(f"{MOVEMENTS}{m['id']}/")
        assert detail.status_code == 200, detail.content[:500]
        assert detail.json() == m
    report = ledger_verify()
    assert report.intact, report


def check_fields(body: Body, movement: dict) -> None:
    """A movement posted from a body inside the domain carries exactly what the body said."""
    kind = body.kind
    assert movement["kind"] == kind
    assert movement["product"] == body.value("product")
    if kind == "transfer":
        assert (movement["location"], movement["to_location"]) == (body.value("from_location"), body.value("to_location"))
    else:
        assert (movement["location"], movement["to_location"]) == (body.value("location"), None)
    if kind == "count":
        assert Decimal(movement["counted_quantity"]) == body.value("counted_quantity")
    else:
        assert Decimal(movement["quantity"]) == body.value("quantity")
    cost = body.value("unit_cost")
    assert (movement["unit_cost"] and Decimal(movement["unit_cost"])) == cost
    occurred = body.fields.get("occurred_at")
    if occurred is not None and occurred.given and occurred.value is not None:
        assert _time(movement["occurred_at"]) == occurred.value, (movement["occurred_at"], occurred.value)
    for name in ("reference", "reason"):
        text = body.value(name) or ""
        assert movement[name] in (text, text.strip()), (name, movement[name], text)


def check_answer(world: World, before: Snapshot, response, items: list[Body], steps, *, batch: bool,
                 conflicts: set[str] = frozenset()) -> None:
    """The answer to posting ``items`` (one, a batch, or a reversal) against the oracle.

    ``steps`` is the fold's input if every value is known (else None); ``conflicts`` the 409 codes
    the request must get whatever the fold says (a reversal of a reversal, say)."""
    status = response.status_code
    note(f"answer: {status} {response.content[:2000]!r}")
    assert status < 500, f"server error {status}: {response.content[:2000]!r}"
    any_bad = any(item.bad for item in items)
    if status in (400, 404):  # 404: a well-formed id that names no product or location
        error = check_error_shape(response)
        check_nothing_changed(before)
        assert error["code"] == {400: "validation_error", 404: "not_found"}[status], error  # all well-formed JSON
        index = error.get("item", 0) if batch else 0
        assert isinstance(index, int) and 0 <= index < len(items), error
        suspects = items[index].bad | items[index].either
        named = set(error.get("errors") or {})
        assert named, f"a 400 that names no field: {error}"
        assert suspects, f"refused an item inside the domain: {error}"
        assert named <= suspects, f"named {named}, but only {suspects} could be wrong: {error}"
        return
    assert not any_bad, f"accepted ({status}) a body outside the domain: bad {[sorted(i.bad) for i in items]}"
    now = datetime.now(UTC)
    result = fold(world, before.guard, steps, now) if steps is not None else None
    if result is not None and result.backdated:
        # A backdated posting is checked at every business time from its date on, and a backdated
        # count takes its difference at its own time: the fold of current balances does not say.
        result = None
    if status == 409:
        error = check_error_shape(response)
        check_nothing_changed(before)
        if conflicts:
            assert error["code"] in conflicts, error
            return
        if result is not None:
            assert result.refused, f"refused a posting the fold allows: {error}"
            if result.refused == {"insufficient"}:
                assert error["code"] == "insufficient_stock", error
        return
    assert status == 201, f"unexpected {status}: {response.content[:1000]!r}"
    assert not conflicts, f"posted what must conflict ({conflicts})"
    body = response.json()
    movements = body["movements"] if batch else [body]
    assert len(movements) == len(items)
    check_posted(before, movements, world.client)
    if result is None:
        return
    assert not result.refused, f"posted although the fold says {result.refused}"
    after = snapshot()
    for key in result.guard.keys() | after.guard.keys():
        assert after.guard.get(key, 0) == result.guard.get(key, 0), key
    for item, movement, balances in zip(items, movements, result.balances, strict=True):
        if item.kind is not None:
            check_fields(item, movement)
        assert [Decimal(b["quantity"]) for b in movement["balances"]] == balances, movement


def must_post(world: World, before: Snapshot, response, items: list[Body], steps) -> None:
    """Inside the domain, with the fold allowing it and nothing backdated: the answer must be 201."""
    if steps is None or any(item.bad or item.either for item in items):
        return
    result = fold(world, before.guard, steps, datetime.now(UTC))
    if result.backdated:
        return
    if result.refused:
        assert response.status_code == 409, f"the fold says {result.refused}, the answer {response.status_code}"
    else:
        assert response.status_code == 201, f"refused a posting inside the domain: {response.content[:1000]!r}"


# ---------------------------------------------------------------- the tests


def bodies(world: World, valid_only: bool):
    return domain.movement_bodies(products=world.products, locations=world.locations, missing=world.missing,
                                  valid_only=valid_only)


def test_single_postings_over_the_domain(world):
    @PROPERTY
    @given(data=st.data())
    def post_one(data):
        body = data.draw(st.booleans().flatmap(lambda valid: bodies(world, valid)), label="body")
        note(f"json: {body.json()!r}")

        def check():
            before = snapshot()
            response = send(world.client, MOVEMENTS, body.json())
            now = datetime.now(UTC)
            step = movement_step(world, body, now) if body.kind and not body.bad and body.not_a_dict is None else None
            steps = [step] if step is not None else None
            check_answer(world, before, response, [body], steps, batch=False)
            must_post(world, before, response, [body], steps)

        in_savepoint(check)

    post_one()


def test_batches_over_the_domain(world):
    item = st.integers(0, 4).flatmap(lambda n: bodies(world, n > 0))  # four in five inside the domain

    @PROPERTY
    @given(items=st.lists(item, min_size=1, max_size=4), wrapper=st.sampled_from(["plain"] * 8 + ["extra key"]))
    def post_batch(items, wrapper):
        payload = {"movements": [item.json() for item in items]}
        if wrapper == "extra key":
            payload["comment"] = "x"
        note(f"json: {payload!r}")

        def check():
            before = snapshot()
            response = send(world.client, f"{MOVEMENTS}batch/", payload)
            now = datetime.now(UTC)
            steps = [movement_step(world, i, now) if i.kind and not i.bad and i.not_a_dict is None else None for i in items]
            steps = None if None in steps else steps
            check_answer(world, before, response, items, steps, batch=True)
            if wrapper == "plain":
                must_post(world, before, response, items, steps)

        in_savepoint(check)

    post_batch()


@pytest.mark.parametrize("payload", [{}, [], {"movements": {}}, {"movements": "x"}, {"movements": None}, {"movements": []},
                                     {"movements": [None]}, {"movements": [[]]}, "movements", 5])
def test_a_batch_that_is_no_list_of_movements_is_refused(world, payload):
    before = snapshot()
    response = send(world.client, f"{MOVEMENTS}batch/", payload)
    assert response.status_code == 400, response.content[:500]
    error = check_error_shape(response)
    assert set(error.get("errors") or {}) & {"movements", "non_field_errors"}, error
    check_nothing_changed(before)


def reversal_bodies():
    fields = st.fixed_dictionaries({}, optional={
        "occurred_at": domain.time_values(),
        "reference": domain.reference_values(),
        "reason": domain.reason_values(),
        "reverses": st.just(Value(1, BAD)),
        "quantity": st.just(Value("1", BAD)),
        "idempotency_key": st.just(Value(None, OK)),
    })
    odd = st.sampled_from([[1], "x", 5, True, ["occurred_at"]]).map(lambda raw: Body({}, None, not_a_dict=raw))
    empty = st.sampled_from([[], "", 0, None, False]).map(lambda raw: Body({}, None, not_a_dict=raw))
    return st.one_of(fields.map(lambda f: Body(f, None)), fields.map(lambda f: Body(f, None)), odd, empty)


def test_reversals_over_the_domain(world):
    targets = st.one_of(
        st.sampled_from(sorted(world.originals)).map(lambda pk: Value(str(pk), OK, pk)),
        st.sampled_from([str(world.missing), "0", "-1", "abc", "²", "1.5", "99999999999999999999", str(2**63),
                         "١", "%00", "1%20"]).map(lambda raw: Value(raw, BAD, None)),
    )

    @PROPERTY
    @given(target=targets, body=reversal_bodies())
    def reverse(target, body):
        note(f"POST {MOVEMENTS}{target.raw}/reverse/ json: {body.json()!r}")

        def check():
            before = snapshot()
            response = send(world.client, f"{MOVEMENTS}{target.raw}/reverse/", body.json())
            status = response.status_code
            empty_body = body.not_a_dict is not None and not body.not_a_dict
            if empty_body:  # an empty body may be read as no fields at all
                body_either = Body({}, None)
                body_either.fields["non_field_errors"] = Value(body.not_a_dict, EITHER)
                item = body_either
            else:
                item = body
            if target.verdict == BAD:
                assert status < 500, f"server error {status}: {response.content[:2000]!r}"
                assert status in (400, 404, 409), response.content[:1000]
                if status != 404 or response.headers.get("Content-Type", "").startswith("application/json"):
                    check_error_shape(response)  # a path the router does not match gets Django's own 404 page
                check_nothing_changed(before)
                return
            original = world.originals[target.value]
            occurred = item.fields.get("occurred_at")
            # The ledger's own rule: a reversal is never dated before the movement it reverses
            # (valid input, refused by the ledger's history: a 409, checked before a reversal
            # already in the ledger is looked for).
            dated_before = (
                occurred is not None and occurred.verdict != BAD and occurred.value is not None
                and occurred.value < original.occurred_at
            )
            conflicts = set()
            if original.kind == "reversal":
                conflicts = {"reversal_not_allowed"}
            elif dated_before:
                conflicts = {"reversal_before_original"}
            elif getattr(original, "reversed_by", None) is not None:
                conflicts = {"already_reversed"}
            steps = None
            if not item.bad and not item.either:
                occurred = item.fields.get("occurred_at")
                when = occurred.value if occurred is not None and occurred.given else datetime.now(UTC)
                legs = [(original.location_id, -original.delta, None)]
                if original.to_location_id is not None:
                    legs.append((original.to_location_id, original.delta, None))
                steps = [(original.product_id, legs, when)]
            check_answer(world, before, response, [item], steps, batch=False, conflicts=conflicts)
            if status == 201:
                posted = response.json()
                assert posted["kind"] == "reversal" and posted["reverses"] == original.pk, posted
                assert Decimal(posted["quantity"]) == original.quantity and Decimal(posted["delta"]) == -original.delta
                assert world.client.get(f"{MOVEMENTS}{original.pk}/").json()["reversed_by"] == posted["id"]
            elif steps is not None and not conflicts:
                must_post(world, before, response, [_AsPosting(item)], steps)

        in_savepoint(check)

    reverse()


class _AsPosting(Body):
    """A reversal body seen as a posting by ``must_post`` (which needs only its verdicts)."""

    def __init__(self, body: Body):
        super().__init__(body.fields, None, body.extra_bad, body.not_a_dict)


# ---------------------------------------------------------------- reading by business time


@pytest.fixture
def dated(world, clerk) -> World:
    """Receipts dated across the domain, so a time filter has something to tell apart."""
    product, location = world.products[0], world.locations[2]
    now = datetime.now(UTC)
    for when in ["1970-01-01T00:00:00Z", "1999-12-31T23:59:59.999999Z", "2000-01-01T00:00:00Z",
                 "2024-02-29T12:00:00+14:00", (now - timedelta(hours=1)).isoformat(), (now - timedelta(seconds=2)).isoformat()]:
        movement_post(user=clerk, movement=parse_movement(
            {"kind": "receipt", "product": product, "location": location, "quantity": "1.5", "occurred_at": when}))
    return world


def _query(value: Value) -> str:
    """A query-string value as a client would send it (an unpaired surrogate as the bytes it would be)."""
    raw = value.raw
    text = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


COMPARE = {"occurred_after": lambda t, x: t >= x, "occurred_before": lambda t, x: t < x, "occurred_until": lambda t, x: t <= x}


def test_time_filters_over_the_domain(dated):
    movements = list(Movement.objects.order_by("position"))

    @PROPERTY
    @given(value=domain.time_values(), name=st.sampled_from(sorted(COMPARE)))
    def filter_by(value, name):
        in_savepoint(lambda: _filter_by(value, name))

    def _filter_by(value, name):
        url = f"{MOVEMENTS}?{name}={_query(value)}&page_size=1000"
        note(f"GET {url} ({value.verdict}: {value.raw!r} means {value.value})")
        response = dated.client.get(url)
        status = response.status_code
        note(f"answer: {status} {response.content[:1000]!r}")
        assert status < 500, f"server error {status}: {response.content[:2000]!r}"
        if value.verdict == OK and value.value is not None:
            assert status == 200, response.content[:1000]
            expected = [m.position for m in movements if COMPARE[name](m.occurred_at, value.value)]
            assert [m["position"] for m in response.json()["results"]] == expected
        elif status == 400:
            error = check_error_shape(response)
            assert name in (error.get("errors") or {}), error
        else:
            assert status == 200, response.content[:1000]

    filter_by()


def test_stock_as_of_a_business_time_over_the_domain(dated):
    product = dated.products[0]
    movements = list(Movement.objects.filter(product_id=product))

    @PROPERTY
    @given(value=domain.time_values(), location=st.sampled_from([None, *dated.locations]))
    def as_of(value, location):
        in_savepoint(lambda: _as_of(value, location))

    def _as_of(value, location):
        url = f"/api/v1/stock/as-of/?product={product}&at={_query(value)}"
        if location is not None:
            url += f"&location={location}"
        note(f"GET {url} ({value.verdict}: {value.raw!r} means {value.value})")
        response = dated.client.get(url)
        status = response.status_code
        note(f"answer: {status} {response.content[:1000]!r}")
        assert status < 500, f"server error {status}: {response.content[:2000]!r}"
        if value.verdict == OK and value.value is not None:
            assert status == 200, response.content[:1000]
            expected = Decimal(0)
            for m in movements:
                if m.occurred_at <= value.value:
                    for loc, change in legs_of(m):
                        if location is None or loc == location:
                            expected += change
            assert Decimal(response.json()["quantity"]) == expected
        elif status == 400:
            error = check_error_shape(response)
            assert "at" in (error.get("errors") or {}), error
        else:
            assert status == 200, response.content[:1000]

    as_of()


# ---------------------------------------------------------------- bodies no parser should choke on


def _nested(depth: int, shape: str) -> str:
    if shape == "list":
        return "[" * depth + "]" * depth
    if shape == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"kind": "receipt", "name": ' + "[" * depth + "]" * depth + "}"


WRITES = [
    ("post", MOVEMENTS, "clerk"), ("post", f"{MOVEMENTS}batch/", "clerk"), ("post", f"{MOVEMENTS}{{movement}}/reverse/", "clerk"),
    *[(method, f"/api/v1/{resource}/{suffix}", "manager")
      for resource in ("categories", "products", "warehouses", "locations")
      for method, suffix in (("post", ""), ("put", f"{{{resource}}}/"), ("patch", f"{{{resource}}}/"))],
]
ODD_BODIES = {
    **{f"{shape} nested {depth} deep": _nested(depth, shape).encode() for shape in ("list", "object", "field") for depth in (1000, 100_000)},
    "NaN literal": b'{"kind": "receipt", "quantity": NaN}',
    "Infinity literal": b'{"kind": "receipt", "quantity": Infinity, "unit_cost": -Infinity}',
    "not UTF-8": b'{"kind": "receipt", "reference": "\xff\xfe"}',
    "a lone surrogate as raw bytes": b'{"kind": "receipt", "reference": "\xed\xa0\x80"}',
    "an integer of 5000 digits": b'{"kind": "receipt", "quantity": ' + b"9" * 5000 + b"}",
    "truncated": b'{"kind": "receipt", "quantity": "1',
}


@pytest.mark.parametrize("method,url,role", WRITES, ids=[f"{m} {u}" for m, u, _ in WRITES])
def test_no_write_endpoint_chokes_on_a_body_no_parser_should_accept(method, url, role, world, request):
    from catalog.models import Category, Location, Product, Warehouse
    from tests.factories import CategoryFactory

    client = request.getfixturevalue(f"{role}_client")
    ids = {"movement": min(world.originals), "categories": CategoryFactory().pk, "products": world.products[0],
           "warehouses": Warehouse.objects.first().pk, "locations": world.locations[0]}
    target = url.format(**ids)

    def counts():
        return [model.objects.count() for model in (Movement, Category, Product, Warehouse, Location)], snapshot()

    failures = []

    def send_odd(name, payload):
        before = counts()
        try:
            response = getattr(client, method)(target, data=payload, content_type="application/json")
        except Exception as exc:  # the test client re-raises what the view raised: a 500
            failures.append(f"{name}: raised {type(exc).__name__}: {str(exc)[:200]}")
            return
        if response.status_code != 400:
            failures.append(f"{name}: {response.status_code} {response.content[:200]!r}")
            return
        error = response.json()
        if error.get("code") not in ("malformed_request", "validation_error") or not isinstance(error.get("detail"), str):
            failures.append(f"{name}: error body {error}")
        if counts() != before:
            failures.append(f"{name}: a refused body changed the database")

    for name, payload in ODD_BODIES.items():
        in_savepoint(lambda: send_odd(name, payload))
    assert not failures, f"{method.upper()} {target}:\n" + "\n".join(failures)
