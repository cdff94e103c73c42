"""Posting to the ledger: the only code that appends movements and changes the guard rows.

One path serves a single movement, a batch and a reversal, all or nothing, in one transaction:
replay what was posted before under the same idempotency key, check the catalog, lock the guard
rows (sorted), apply every movement in order against the locked balances (refusing any that would
go below zero), then take the head lock last, chain and insert the events, and announce the
commit. See ``store`` for why the locks come in that order.

Business time: a movement may be dated in the past (``occurred_at``). Stock as of a business time
sums every movement dated at or before it, so a backdated movement is checked against the balance
at every business time from its date on (none may go negative), and a count's difference is taken
against the balance at the count's own business time. A reversal is never dated before its original.
"""
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from uuid import uuid4

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.selectors import catalog_facts
from wms.errors import DomainError

from . import store
from .errors import (
    AlreadyReversed,
    IdempotencyKeyReused,
    InactiveLocation,
    InactiveProduct,
    InsufficientStock,
    MovementInvalid,
    OnHandLimit,
    RecordNotFound,
    ReversalBeforeOriginal,
    ReversalNotAllowed,
)
from .models import Movement, MovementKind
from .quantities import MAX_QUANTITY
from .requests import MovementRequest
from .signals import movements_committed
from .store import GuardUpdate, Key
from .timeline import StockTimeline

MAX_BATCH = 5000
# Sign of the change at ``location`` for each kind posted directly (a count's comes from the count).
_SIGN = {MovementKind.RECEIPT: 1, MovementKind.ISSUE: -1, MovementKind.TRANSFER: -1}


@dataclass(frozen=True, slots=True)
class Posted:
    movement: Movement
    replayed: bool  # True: posted earlier under the same idempotency key; nothing new was posted


@dataclass(slots=True)
class _Plan:
    """One movement to append: its request and the legs it applies."""

    item: int
    request: MovementRequest
    occurred_at: datetime
    product: int
    location: int
    to_location: int | None
    delta: Decimal
    quantity: Decimal | None = None
    expected: Decimal | None = None
    original: Movement | None = None
    balances: list[Decimal] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Catalog:
    """What posting needs to know of the products and locations it touches."""

    products: dict[int, tuple[str, bool]]  # id: (sku, active)
    locations: dict[int, tuple[str, bool]]  # id: ("WAREHOUSE/CODE", active)


def movements_post(*, user, requests: Sequence[MovementRequest], max_batch: int | None = MAX_BATCH) -> list[Posted]:
    """Post ``requests`` atomically, in order; return one ``Posted`` per request. ``max_batch``
    bounds what a client may send at once (None: no bound, for trusted bulk paths such as import).

    Retries are rare, so the first attempt does not look for earlier postings under the same
    idempotency keys: the unique constraint on (user, key) catches them at the insert, which rolls
    everything back, and a second attempt answers them from the ledger; so does a refusal of a
    request that carries keys. A concurrent request with the same key, or a second reversal of the
    same movement, is caught the same way. Two kinds look first: a reversal (a second reversal is
    refused before its insert) and a large batch of the client's own keys (a retried import would
    otherwise be planned in full only to fail at its insert).
    """
    if not requests:
        raise MovementInvalid({"movements": ["Post at least one movement."]})
    if max_batch is not None and len(requests) > max_batch:
        raise MovementInvalid({"movements": [f"Post at most {max_batch} movements at a time."]})
    keyed_by_client = any(r.idempotency_key for r in requests)
    requests = [r if r.idempotency_key else _with_key(r) for r in requests]
    _refuse_repeated_keys(requests)
    reversing = any(r.reverses is not None for r in requests)
    look_first = reversing or (keyed_by_client and len(requests) >= store.COPY_FROM)
    try:
        return _post(user, requests, look_for_retries=look_first)
    except IntegrityError:
        return _post(user, requests, look_for_retries=True)
    except DomainError:
        # A retry can be refused for what its own original did (the last units it took): before
        # refusing, see whether it is a retry.
        if look_first or not keyed_by_client:
            raise
        return _post(user, requests, look_for_retries=True)


def movement_post(*, user, request: MovementRequest) -> Posted:
    return movements_post(user=user, requests=[request])[0]


@transaction.atomic
def _post(user, requests: list[MovementRequest], *, look_for_retries: bool) -> list[Posted]:
    batch = len(requests) > 1
    results: list[Posted | None] = [None] * len(requests)
    pending = _replay(user, requests, results, batch) if look_for_retries else list(enumerate(requests))
    if pending:
        now = timezone.now()
        plans, catalog = _plan(pending, batch, now)
        changed = _apply(plans, catalog, batch)
        for plan, movement in zip(plans, _append(user, plans, changed, now), strict=True):
            results[plan.item] = Posted(movement, replayed=False)
        last_position = results[plans[-1].item].movement.position
        # robust: a failing subscriber (say, a broker that is down) must not fail a committed posting.
        transaction.on_commit(
            partial(movements_committed.send, sender=Movement, last_position=last_position), robust=True
        )
    return results


def _with_key(request: MovementRequest) -> MovementRequest:
    """A request without a key gets a fresh one: every event carries a key, none is a retry."""
    return replace(request, idempotency_key=f"auto-{uuid4().hex}")


def _refuse(error, item: int, batch: bool):
    return error.for_item(item) if batch else error


def _refuse_repeated_keys(requests: list[MovementRequest]) -> None:
    seen: set[str] = set()
    for item, request in enumerate(requests):
        if request.idempotency_key in seen:
            error = MovementInvalid({"idempotency_key": [f"Key {request.idempotency_key!r} is used twice in this batch."]})
            raise error.for_item(item)
        seen.add(request.idempotency_key)


def _replay(user, requests, results, batch) -> list[tuple[int, MovementRequest]]:
    """Answer requests already posted under their key; return the ones still to post."""
    keys = [r.idempotency_key for r in requests]
    earlier = {m.idempotency_key: m for m in Movement.objects.filter(user=user, idempotency_key__in=keys)}
    pending = []
    for item, request in enumerate(requests):
        movement = earlier.get(request.idempotency_key)
        if movement is None:
            pending.append((item, request))
        elif movement.request_fingerprint != request.fingerprint():
            raise _refuse(IdempotencyKeyReused(key=request.idempotency_key, movement_id=movement.pk), item, batch)
        else:
            results[item] = Posted(movement, replayed=True)
    return pending


def _plan(pending: list[tuple[int, MovementRequest]], batch: bool, now: datetime) -> tuple[list[_Plan], _Catalog]:
    """Check products, locations and reversal targets; turn each request into its legs, dated at
    its business time (now, unless it says otherwise)."""
    originals = _originals([r.reverses for _, r in pending if r.reverses is not None])
    reversed_here: set[int] = set()
    plans = []
    for item, request in pending:
        occurred_at = request.occurred_at or now
        if request.reverses is None:
            delta = request.quantity * _SIGN[request.kind] if request.kind in _SIGN else Decimal(0)
            plans.append(_Plan(
                item, request, occurred_at, request.product, request.location, request.to_location, delta, request.quantity
            ))
            continue
        original = originals.get(request.reverses)
        if original is None:
            missing = RecordNotFound.NO_MOVEMENT.format(movement=request.reverses)
            raise _refuse(RecordNotFound({"reverses": [missing]}), item, batch)
        if original.kind == MovementKind.REVERSAL:
            raise _refuse(ReversalNotAllowed(movement_id=original.pk), item, batch)
        if original.pk in reversed_here:
            raise _refuse(AlreadyReversed(movement_id=original.pk, reversed_by=None), item, batch)
        if occurred_at < original.occurred_at:
            refusal = ReversalBeforeOriginal(movement_id=original.pk, occurred_at=original.occurred_at.isoformat())
            raise _refuse(refusal, item, batch)
        reversed_here.add(original.pk)
        plans.append(
            _Plan(
                item, request, occurred_at, original.product_id, original.location_id, original.to_location_id,
                delta=-original.delta, quantity=original.quantity, original=original,
            )
        )
    return plans, _check_catalog(plans, batch)


def _originals(ids: list[int]) -> dict[int, Movement]:
    return Movement.objects.in_bulk(ids) if ids else {}


def _refuse_reversed_twice(plans: list[_Plan], batch: bool) -> None:
    """Runs with the guard rows locked: a concurrent reversal of the same event has committed by
    now (it held the same rows), so this read sees it."""
    reversing = {p.original.pk: p for p in plans if p.original is not None}
    if not reversing:
        return
    for original_id, reversal_id in Movement.objects.filter(reverses_id__in=reversing).values_list("reverses_id", "pk"):
        raise _refuse(AlreadyReversed(movement_id=original_id, reversed_by=reversal_id), reversing[original_id].item, batch)


def _check_catalog(plans: list[_Plan], batch: bool) -> _Catalog:
    location_ids = {p.location for p in plans} | {p.to_location for p in plans if p.to_location}
    products, locations = catalog_facts({p.product for p in plans}, location_ids)
    for plan in plans:
        correcting = plan.original is not None  # a correction must stay possible after deactivation
        if plan.product not in products:
            raise _refuse(RecordNotFound({"product": [RecordNotFound.NO_PRODUCT.format(product=plan.product)]}), plan.item, batch)
        if not correcting and not products[plan.product][1]:
            raise _refuse(InactiveProduct(product_id=plan.product, sku=products[plan.product][0]), plan.item, batch)
        names = ("from_location", "to_location") if plan.request.kind == MovementKind.TRANSFER else ("location", None)
        for name, location in zip(names, (plan.location, plan.to_location)):
            if location is None:
                continue
            if location not in locations:
                raise _refuse(RecordNotFound({name: [RecordNotFound.NO_LOCATION.format(location=location)]}), plan.item, batch)
            if not correcting and not locations[location][1]:
                raise _refuse(InactiveLocation(location_id=location, label=locations[location][0]), plan.item, batch)
    return _Catalog(products, locations)


def _legs(plan: _Plan) -> list[tuple[Key, Decimal]]:
    """(product-location, signed change) for each location the plan touches."""
    legs = [((plan.product, plan.location), plan.delta)]
    if plan.to_location is not None:
        legs.append(((plan.product, plan.to_location), -plan.delta))
    return legs


def _apply(plans: list[_Plan], catalog: _Catalog, batch: bool) -> dict[int, GuardUpdate]:
    """Lock the guard rows, apply every plan in order, refuse all if any balance would go below
    zero at any business time from the plan's date on. Returns what changed on each guard row,
    by row id."""
    keys = {key for plan in plans for key in _keys_touched(plan)}
    locked = store.lock_stock_levels(keys)
    _refuse_reversed_twice(plans, batch)
    timelines = _timelines(locked, plans)
    shortages = []
    for plan in plans:
        if plan.request.kind == MovementKind.COUNT:
            plan.expected = timelines[(plan.product, plan.location)].balance_at(plan.occurred_at)
            plan.delta = plan.request.counted_quantity - plan.expected
            plan.quantity = abs(plan.delta)
        legs = _legs(plan)
        for key, change in legs:
            timeline = timelines[key]
            if change < 0:
                lowest_at, lowest = timeline.lowest_from(plan.occurred_at)
                if lowest + change < 0:
                    backdated = timeline.latest is not None and plan.occurred_at < timeline.latest
                    shortages.append((plan, key, lowest, -change, lowest_at if backdated else None))
            elif timeline.highest_from(plan.occurred_at) + change > MAX_QUANTITY:
                product, location = key
                raise _refuse(OnHandLimit(
                    product_id=product, sku=catalog.products[product][0],
                    location_id=location, label=catalog.locations[location][0], limit=MAX_QUANTITY,
                ), plan.item, batch)
            timeline.add(plan.occurred_at, change)
        plan.balances = [timelines[key].current for key, _ in legs]
    if shortages:
        raise _shortage_error(shortages, catalog, batch)
    return {
        row.id: GuardUpdate(timelines[key].current, timelines[key].latest)
        for key, row in locked.items()
        if (timelines[key].current, timelines[key].latest) != (row.quantity, row.last_occurred_at)
    }


def _keys_touched(plan: _Plan) -> list[Key]:
    return [key for key, _ in _legs(plan)]


def _timelines(locked: dict[Key, "store.GuardRow"], plans: list[_Plan]) -> dict[Key, StockTimeline]:
    """Each touched product-location's balance over business time, from the earliest date a plan
    touches it at. Only a backdated plan (dated before the latest movement there) reads history."""
    earliest: dict[Key, datetime] = {}
    for plan in plans:
        for key in _keys_touched(plan):
            earliest[key] = min(earliest.get(key, plan.occurred_at), plan.occurred_at)
    backdated = {
        key: earliest[key] for key, row in locked.items()
        if row.last_occurred_at is not None and earliest[key] < row.last_occurred_at
    }
    history = store.stock_changes_after(backdated) if backdated else {}
    timelines = {}
    for key, row in locked.items():
        if key in history:
            opening = row.quantity - sum((change for _, change in history[key]), Decimal(0))
            timelines[key] = StockTimeline(earliest[key], opening, history[key])
        else:
            timelines[key] = StockTimeline(row.last_occurred_at, row.quantity)
    return timelines


def _shortage_error(shortages, catalog: _Catalog, batch: bool) -> InsufficientStock:
    def error(plan, key, available, requested, at):
        return InsufficientStock(
            product_id=key[0], sku=catalog.products[key[0]][0],
            location_id=key[1], label=catalog.locations[key[1]][0],
            available=max(available, Decimal(0)), requested=requested, at=at,
        )

    first = error(*shortages[0])
    if batch:
        first.for_item(shortages[0][0].item)
        first.extra["shortages"] = [{**error(*s).extra, "item": s[0].item} for s in shortages]
    return first


def _append(user, plans: list[_Plan], changed: dict[int, GuardUpdate], now: datetime) -> list[Movement]:
    """Write the guard rows and append the events (``store`` takes the head's lock last and gives
    them their recorded time)."""
    rows = []
    for plan in plans:
        request = plan.request
        rows.append({
            "kind": request.kind,
            "product_id": plan.product,
            "location_id": plan.location,
            "to_location_id": plan.to_location,
            "quantity": plan.quantity,
            "delta": plan.delta,
            "balance_after": plan.balances[0],
            "to_balance_after": plan.balances[1] if len(plan.balances) > 1 else None,
            "counted_quantity": request.counted_quantity,
            "expected_quantity": plan.expected,
            "unit_cost": request.unit_cost,
            "occurred_at": plan.occurred_at,
            "user_id": user.pk,
            "reference": request.reference,
            "reason": request.reason,
            "idempotency_key": request.idempotency_key,
            "request_fingerprint": request.fingerprint(),
            "reverses_id": request.reverses,
        })
    movements = store.append_chained(rows, changed, now)
    for movement in movements:  # new events are not reversed: spare the serializer a query
        Movement.reversed_by.related.set_cached_value(movement, None)
    return movements
