"""Posting to the ledger: the only code that appends movements and changes the guard rows.

One path serves a single movement, a batch and a reversal, all or nothing, in one transaction:

1. replay what was posted before under the same idempotency key (when the ``RetryPolicy`` says to
   look);
2. resolve each new movement into an ``_Intent``: where and when it changes stock (a reversal
   takes its original's legs), refusing a reversal that cannot be;
3. check the catalog: every product and location exists, and is active unless a reversal corrects
   a movement made before it was deactivated; and none is dated inside a closed period
   (``closes``; a reversal dated after the close is how a movement inside it is corrected);
4. lock the guard rows (``store``), then build each movement's complete ``_Plan`` against the
   locked balances, in order: a count's difference, the balances after, refusing all if any
   balance would go below zero (every ``Shortage`` at once) or past what the ledger holds;
5. append: write the guard rows, take the head lock last (refusing a movement dated inside a
   period closed meanwhile), chain and insert the events, and announce the commit.

Business time: a movement may be dated in the past (``occurred_at``). Stock as of a business time
sums every movement dated at or before it, so a backdated movement is checked against the balance
at every business time from its date on (none may go negative), and a count's difference is taken
against the balance at the count's own business time. A reversal is never dated before its
original. How a movement changes stock (its legs, the sign of each kind) is defined in ``legs``.
"""
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cached_property, partial
from uuid import uuid4

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Lot
from catalog.selectors import CatalogFacts, catalog_facts
from common.errors import DomainError

from . import chain, closes, lots, metrics, store
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
    Shortage,
)
from .legs import KEY_FIELDS, LEGS, Leg, PlacedLeg, StockKey, placed_legs, reversed_delta
from .lots import LotFacts
from .models import Movement, MovementKind
from .parsing import NewMovement
from .quantities import MAX_QUANTITY
from .signals import movements_committed
from .store import GuardRow, GuardUpdate
from .timeline import StockTimeline

MAX_BATCH = 5000
# The change at ``location`` per unit moved, for each kind posted with a quantity (a count's is the
# difference it found; a reversal's its original's, negated).
DIRECTION = {MovementKind.RECEIPT: 1, MovementKind.ISSUE: -1, MovementKind.TRANSFER: -1}


@dataclass(frozen=True, slots=True)
class Posted:
    movement: Movement  # the first event of what was posted (of the only one, usually)
    replayed: bool  # True: posted earlier under the same idempotency key; nothing new was posted
    # Every event of it when it took more than one: an issue allocated across lots, a reversal of one.
    allocated: tuple[Movement, ...] = ()

    @property
    def events(self) -> tuple[Movement, ...]:
        return self.allocated or (self.movement,)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a posting is attempted a second time, and why.

    Retries of a request are rare, so a first attempt normally does not look for earlier postings
    under the same idempotency keys: the unique constraint on (user, key) catches them at the
    insert, which rolls everything back, and the second attempt, which looks, answers them from the
    ledger. A concurrent request with the same key, or a second reversal of the same movement, is
    caught the same way (``IntegrityError``).

    A refusal is tried again for the same reason when the client keyed its requests: a retry can be
    refused for what its own original did (the original took the last units). Requests without a
    client key cannot be retries, so their refusals stand.

    Two kinds of posting look first, and are not tried again for a refusal: a reversal (a second
    reversal of one movement is refused before its insert) and a large batch of the client's own
    keys (a retried import would otherwise be planned in full only to fail at its insert).
    """

    look_first: bool
    retry_refusals: bool

    @classmethod
    def for_movements(cls, movements: Sequence[NewMovement]) -> "RetryPolicy":
        keyed_by_client = any(movement.idempotency_key for movement in movements)
        reversing = any(movement.reverses is not None for movement in movements)
        look_first = reversing or (keyed_by_client and len(movements) >= store.COPY_FROM)
        return cls(look_first=look_first, retry_refusals=keyed_by_client and not look_first)

    def again_after(self, error: Exception) -> bool:
        if isinstance(error, IntegrityError):
            return True
        return self.retry_refusals and isinstance(error, DomainError)


def movements_post(*, user, movements: Sequence[NewMovement], max_batch: int | None = MAX_BATCH) -> list[Posted]:
    """Post ``movements`` atomically, in order; return one ``Posted`` for each. ``max_batch``
    bounds what a client may send at once (None: no bound, for trusted bulk paths such as import)."""
    if not movements:
        raise MovementInvalid({"movements": ["Post at least one movement."]})
    if max_batch is not None and len(movements) > max_batch:
        raise MovementInvalid({"movements": [f"Post at most {max_batch} movements at a time."]})
    retries = RetryPolicy.for_movements(movements)
    movements = [movement if movement.idempotency_key else _with_key(movement) for movement in movements]
    _refuse_repeated_keys(movements)
    try:
        posted = _post(user, movements, look_for_earlier=retries.look_first)
    except (IntegrityError, DomainError) as error:
        if not retries.again_after(error):
            raise
        posted = _post(user, movements, look_for_earlier=True)
    metrics.count_posted([event.kind for p in posted if not p.replayed for event in p.events], len(posted))
    return posted


def movement_post(*, user, movement: NewMovement) -> Posted:
    return movements_post(user=user, movements=[movement])[0]


@dataclass(frozen=True)
class _Intent:
    """A new movement resolved against the ledger: where it changes stock and when, and by how
    much where that is known before the balances are (all but a count)."""

    index: int  # in the list posted; a refusal in a batch names it as ``item``
    movement: NewMovement
    occurred_at: datetime
    product_id: int
    location_id: int
    to_location_id: int | None
    lot_id: int | None
    delta: Decimal | None  # the signed change at location_id; None for a count, whose change is a difference
    original: Movement | None  # what a reversal reverses
    lot: LotFacts | None = None  # the lot moved (``lot_id``'s)
    # An issue or transfer of a lot-tracked product naming no lot: the lots it may take, in FEFO order.
    candidates: tuple[LotFacts, ...] | None = None
    part: int = 0  # which event of the item's posting (an allocation across lots, a reversal of one is several)

    @property
    def is_count(self) -> bool:
        return self.delta is None

    @cached_property
    def legs(self) -> list[PlacedLeg]:
        """Its legs and the key each changes, worked out once."""
        return placed_legs(self)

    @cached_property
    def keys(self) -> list[StockKey]:
        """The guard rows it may change: its legs', or for an allocation, each candidate lot's at its legs."""
        if self.candidates is None:
            return [placed.key for placed in self.legs]
        return [placed.key._replace(lot=lot.id) for lot in self.candidates for placed in self.legs]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One movement to append, complete: everything its row holds but what the head hands out
    (position, recorded time, chain link)."""

    intent: _Intent
    delta: Decimal
    expected: Decimal | None  # a count's: the balance it was counted against
    balances: dict[Leg, Decimal]  # on hand after it, at each of its legs


@transaction.atomic
def _post(user, movements: list[NewMovement], *, look_for_earlier: bool) -> list[Posted]:
    batch = len(movements) > 1
    results: list[Posted | None] = [None] * len(movements)
    pending = dict(enumerate(movements))  # by index: what is still to post
    if look_for_earlier:
        pending = _replay(user, pending, results, batch)
    if pending:
        now = timezone.now()
        intents = _resolve(pending, batch, now)
        facts = _check_catalog(intents, batch)
        intents = _place_lots(intents, facts, batch)
        closes.refuse_closed(intents, batch=batch)
        plans, guard_updates = _plan(intents, facts, batch)
        appended = _append(user, plans, guard_updates, now, batch)
        by_item: dict[int, list[Movement]] = {}
        for plan, movement in zip(plans, appended, strict=True):
            by_item.setdefault(plan.intent.index, []).append(movement)
        for index, events in by_item.items():
            results[index] = Posted(events[0], replayed=False, allocated=tuple(events) if len(events) > 1 else ())
        last_position = appended[-1].position
        # robust: a failing subscriber (say, a broker that is down) must not fail a committed posting.
        transaction.on_commit(
            partial(movements_committed.send, sender=Movement, last_position=last_position), robust=True
        )
    return results


def _with_key(movement: NewMovement) -> NewMovement:
    """A movement without a key gets a fresh one: every event carries a key, none is a retry."""
    return replace(movement, idempotency_key=f"auto-{uuid4().hex}")


def _naming_item(error: DomainError, index: int, batch: bool) -> DomainError:
    """``error``, naming the movement it is about when it is one of a batch."""
    return error.for_item(index) if batch else error


def _refuse_repeated_keys(movements: list[NewMovement]) -> None:
    seen: set[str] = set()
    for index, movement in enumerate(movements):
        if movement.idempotency_key in seen:
            key = movement.idempotency_key
            raise MovementInvalid({"idempotency_key": [f"Key {key!r} is used twice in this batch."]}).for_item(index)
        seen.add(movement.idempotency_key)


def _replay(user, pending: dict[int, NewMovement], results: list, batch: bool) -> dict[int, NewMovement]:
    """Answer the movements already posted under their key; return the ones still to post."""
    keys = [movement.idempotency_key for movement in pending.values()]
    earlier = {
        m.idempotency_key: m for m in Movement.objects.select_related("lot").filter(user=user, idempotency_key__in=keys)
    }
    groups = _allocations([m.allocation_id for m in earlier.values() if m.allocation_id is not None])
    still = {}
    for index, movement in pending.items():
        posted = earlier.get(movement.idempotency_key)
        if posted is None:
            still[index] = movement
        elif posted.request_fingerprint != movement.fingerprint():
            raise _naming_item(IdempotencyKeyReused(key=movement.idempotency_key, movement_id=posted.pk), index, batch)
        else:
            results[index] = Posted(posted, replayed=True, allocated=tuple(groups.get(posted.allocation_id, ())))
    return still


def _allocations(firsts: list[int]) -> dict[int, list[Movement]]:
    """The events of each allocation (by its first event's position), in order."""
    groups: dict[int, list[Movement]] = {}
    if firsts:
        for event in Movement.objects.select_related("lot").filter(allocation_id__in=firsts).order_by("position"):
            groups.setdefault(event.allocation_id, []).append(event)
    return groups


def _resolve(pending: dict[int, NewMovement], batch: bool, now: datetime) -> list[_Intent]:
    """Each movement's legs and business time (now, unless it says otherwise); a reversal takes
    its original's legs, negated, and is refused if it cannot be."""
    reversing = [movement.reverses for movement in pending.values() if movement.reverses is not None]
    originals = Movement.objects.select_related("lot").in_bulk(reversing) if reversing else {}
    groups = _allocations([m.allocation_id for m in originals.values() if m.allocation_id is not None])
    reversed_here: set[int] = set()
    intents = []
    for index, movement in pending.items():
        occurred_at = movement.occurred_at or now
        if movement.reverses is None:
            delta = None if movement.kind == MovementKind.COUNT else movement.quantity * DIRECTION[movement.kind]
            intents.append(_Intent(
                index, movement, occurred_at, movement.product, movement.location, movement.to_location, None, delta, None,
            ))
            continue
        original = originals.get(movement.reverses)
        # An event allocated with others is reversed with them: all of that posting, or none of it.
        for part, reversed_event in enumerate(groups.get(getattr(original, "allocation_id", None)) or [original]):
            _refuse_reversal(movement, reversed_event, occurred_at, reversed_here, index, batch)
            reversed_here.add(reversed_event.pk)
            intents.append(_Intent(
                index, movement, occurred_at, reversed_event.product_id, reversed_event.location_id,
                reversed_event.to_location_id, reversed_event.lot_id, reversed_delta(reversed_event.delta),
                reversed_event, lot=_lot_facts(reversed_event), part=part,
            ))
    return intents


def _lot_facts(event: Movement) -> LotFacts | None:
    lot = event.lot
    return LotFacts(lot.pk, lot.code, lot.expires_on, lot.manufactured_on) if lot is not None else None


def _refuse_reversal(
    movement: NewMovement, original: Movement | None, occurred_at: datetime, reversed_here: set[int], index: int, batch: bool
) -> None:
    """A reversal needs an original that is not itself a reversal, is reversed once, and is not
    dated after the reversal."""
    if original is None:
        missing = RecordNotFound.NO_MOVEMENT.format(movement=movement.reverses)
        raise _naming_item(RecordNotFound({"reverses": [missing]}), index, batch)
    if original.kind == MovementKind.REVERSAL:
        raise _naming_item(ReversalNotAllowed(movement_id=original.pk), index, batch)
    if original.pk in reversed_here:
        raise _naming_item(AlreadyReversed(movement_id=original.pk, reversed_by=None), index, batch)
    if occurred_at < original.occurred_at:
        refusal = ReversalBeforeOriginal(movement_id=original.pk, occurred_at=original.occurred_at.isoformat())
        raise _naming_item(refusal, index, batch)


def _refuse_reversed_twice(intents: list[_Intent], batch: bool) -> None:
    """Runs with the guard rows locked: a concurrent reversal of the same event has committed by
    now (it held the same rows), so this read sees it."""
    reversing = {intent.original.pk: intent for intent in intents if intent.original is not None}
    if not reversing:
        return
    for original_id, reversal_id in Movement.objects.filter(reverses_id__in=reversing).values_list("reverses_id", "pk"):
        raise _naming_item(AlreadyReversed(movement_id=original_id, reversed_by=reversal_id), reversing[original_id].index, batch)


def _location_fields(intent: _Intent) -> tuple[str, ...]:
    """What the client called each leg's location (a transfer names its first leg ``from_location``)."""
    if intent.movement.kind == MovementKind.TRANSFER:
        return ("from_location", "to_location")
    return tuple(leg.location for leg in LEGS)


def _check_catalog(intents: list[_Intent], batch: bool) -> CatalogFacts:
    """Every product and location exists; each is active, unless the movement is a reversal (a
    correction must stay possible after deactivation)."""
    facts = catalog_facts(
        {intent.product_id for intent in intents},
        {placed.key.location for intent in intents for placed in intent.legs},
    )
    for intent in intents:
        correcting = intent.original is not None
        product = facts.products.get(intent.product_id)
        if product is None:
            missing = RecordNotFound.NO_PRODUCT.format(product=intent.product_id)
            raise _naming_item(RecordNotFound({"product": [missing]}), intent.index, batch)
        if not correcting and not product.active:
            raise _naming_item(InactiveProduct(product_id=intent.product_id, sku=product.sku), intent.index, batch)
        for field, placed in zip(_location_fields(intent), intent.legs):
            location_id = placed.key.location
            location = facts.locations.get(location_id)
            if location is None:
                missing = RecordNotFound.NO_LOCATION.format(location=location_id)
                raise _naming_item(RecordNotFound({field: [missing]}), intent.index, batch)
            if not correcting and not location.active:
                raise _naming_item(InactiveLocation(location_id=location_id, label=location.label), intent.index, batch)
    return facts


def _place_lots(intents: list[_Intent], facts: CatalogFacts, batch: bool) -> list[_Intent]:
    """Each movement of a lot-tracked product gets its lot (``lots``): the one it names, made if a
    receipt or count names a new one; an issue or transfer naming none gets the lots it may be
    allocated from. A reversal has its original's lot. A product without tracking passes untouched."""
    wanted = []
    for intent in intents:
        if intent.original is None:
            try:
                lots.refuse_misplaced(intent.movement, intent.product_id, facts)
            except DomainError as refusal:
                raise _naming_item(refusal, intent.index, batch) from None
            if intent.movement.lot is not None:
                wanted.append((intent.product_id, intent.movement))
    named = lots.named_lots(wanted) if wanted else {}
    placed = []
    arriving: dict[tuple[int, int], list[LotFacts]] = {}  # lots this posting names, by product and location
    for intent in intents:
        if intent.original is not None or not facts.products[intent.product_id].tracked:
            placed.append(intent)
        elif intent.movement.lot is None:
            candidates = lots.fefo_candidates(
                intent.product_id, intent.location_id, intent.occurred_at,
                arriving=arriving.get((intent.product_id, intent.location_id), ()),
            )
            placed.append(replace(intent, candidates=candidates))
        else:
            lot = named.get((intent.product_id, intent.movement.lot))
            try:
                if lot is None:
                    raise lots.no_such_lot(intent.movement, intent.product_id, facts)
                lots.refuse_wrong_lot(intent.movement, intent.product_id, lot, intent.occurred_at, facts)
            except DomainError as refusal:
                raise _naming_item(refusal, intent.index, batch) from None
            placed.append(replace(intent, lot_id=lot.id, lot=lot))
            for placed_leg in intent.legs:  # a later issue in the posting may be allocated from it
                arriving.setdefault((intent.product_id, placed_leg.key.location), []).append(lot)
    return placed


def _plan(intents: list[_Intent], facts: CatalogFacts, batch: bool) -> tuple[list[_Plan], dict[int, GuardUpdate]]:
    """Lock the guard rows and plan every movement in order against them: refuse all if any
    balance would go below zero, or past what the ledger holds, at any business time from the
    movement's date on. Returns the plans and what changes on each guard row, by row id."""
    locked = store.lock_stock_levels({key for intent in intents for key in intent.keys})
    _refuse_reversed_twice(intents, batch)
    timelines = _timelines(locked, intents)
    plans, shortages = [], []
    for item in intents:
        parts = [item]
        if item.candidates is not None:
            parts, missing = _allocate(item, timelines)
            if missing:
                shortages.append(_shortage_of_lots(item, missing, facts, batch))
                continue
        for intent in parts:
            expected = None
            delta = intent.delta
            if intent.is_count:  # one leg: the difference from the balance at the count's business time
                expected = timelines[intent.legs[0].key].balance_at(intent.occurred_at)
                delta = intent.movement.counted_quantity - expected
            balances = {}
            for leg, key in intent.legs:
                timeline, change = timelines[key], leg.change(delta)
                if change < 0:
                    shortage = _shortage(timeline, intent, key, -change, facts, batch)
                    if shortage is not None:
                        shortages.append(shortage)
                elif timeline.highest_from(intent.occurred_at) + change > MAX_QUANTITY:
                    raise _naming_item(_on_hand_limit(key, facts), intent.index, batch)
                timeline.add(intent.occurred_at, change)
                balances[leg] = timeline.current
            plans.append(_Plan(intent, delta, expected, balances))
    if shortages:
        raise InsufficientStock(shortages)
    guard_updates = {
        row.id: GuardUpdate(timelines[key].current, timelines[key].latest)
        for key, row in locked.items()
        if (timelines[key].current, timelines[key].latest) != (row.quantity, row.last_occurred_at)
    }
    return plans, guard_updates


def _allocate(intent: _Intent, timelines: dict[StockKey, StockTimeline]) -> tuple[list[_Intent], Decimal]:
    """Split an issue or transfer naming no lot across its candidate lots, first-expiring first,
    each taking what its balance allows from the movement's business time on. Returns one intent
    per lot taken from and what none could cover (zero when all is allocated)."""
    remaining, parts = -intent.delta, []
    for lot in intent.candidates:
        if remaining == 0:
            break
        key = StockKey(intent.product_id, intent.location_id, lot.id)
        take = min(max(timelines[key].lowest_from(intent.occurred_at).quantity, Decimal(0)), remaining)
        if take > 0:
            parts.append(replace(intent, lot_id=lot.id, lot=lot, candidates=None, delta=-take, part=len(parts)))
            remaining -= take
    return parts, remaining


def _shortage_of_lots(intent: _Intent, missing: Decimal, facts: CatalogFacts, batch: bool) -> Shortage:
    requested = -intent.delta
    return Shortage(
        product=intent.product_id, sku=facts.products[intent.product_id].sku,
        location=intent.location_id, label=facts.locations[intent.location_id].label,
        available=requested - missing, requested=requested, item=intent.index if batch else None,
        unexpired_lots=True,
    )


def _shortage(
    timeline: StockTimeline, intent: _Intent, key: StockKey, requested: Decimal, facts: CatalogFacts, batch: bool
) -> Shortage | None:
    """What taking ``requested`` at the intent's business time would leave missing, if anything:
    the lowest balance from then on must cover it. A backdated movement says when it would fail."""
    lowest = timeline.lowest_from(intent.occurred_at)
    if lowest.quantity >= requested:
        return None
    backdated = timeline.latest is not None and intent.occurred_at < timeline.latest
    return Shortage(
        product=key.product, sku=facts.products[key.product].sku,
        location=key.location, label=facts.locations[key.location].label,
        available=max(lowest.quantity, Decimal(0)), requested=requested,
        at=lowest.at if backdated else None, item=intent.index if batch else None,
        lot=key.lot, lot_code=intent.lot.code if intent.lot else None,
    )


def _on_hand_limit(key: StockKey, facts: CatalogFacts) -> OnHandLimit:
    return OnHandLimit(
        product_id=key.product, sku=facts.products[key.product].sku,
        location_id=key.location, label=facts.locations[key.location].label, limit=MAX_QUANTITY,
    )


def _timelines(locked: dict[StockKey, GuardRow], intents: list[_Intent]) -> dict[StockKey, StockTimeline]:
    """Each touched key's balance over business time, from the earliest date a movement touches
    it at. Only a backdated movement (dated before the latest movement there) reads history."""
    earliest: dict[StockKey, datetime] = {}
    for intent in intents:
        for key in intent.keys:
            earliest[key] = min(earliest.get(key, intent.occurred_at), intent.occurred_at)
    backdated = {
        key: earliest[key] for key, row in locked.items()
        if row.last_occurred_at is not None and earliest[key] < row.last_occurred_at
    }
    history = store.stock_changes_after(backdated) if backdated else {}
    timelines = {}
    for key, row in locked.items():
        if key in history:
            opening = row.quantity - sum((change.change for change in history[key]), Decimal(0))
            timelines[key] = StockTimeline(earliest[key], opening, history[key])
        else:
            timelines[key] = StockTimeline(row.last_occurred_at, row.quantity)
    return timelines


def _append(user, plans: list[_Plan], guard_updates: dict[int, GuardUpdate], now: datetime, batch: bool) -> list[Movement]:
    """Write the guard rows and append the events (``store`` takes the head's lock last and gives
    them their positions, recorded time and chain links; it appends nothing dated inside a period
    closed meanwhile)."""
    rows, allocations = [], {}
    firsts: dict[int, int] = {}  # item: the offset of its first event
    for offset, plan in enumerate(plans):
        intent, movement = plan.intent, plan.intent.movement
        first = firsts.setdefault(intent.index, offset)
        if intent.part:  # allocated with the item's first event: linked to it, keyed after it
            allocations[first] = allocations[offset] = first
        row = {field: getattr(intent, field) for field in KEY_FIELDS}
        row.update({leg.balance_field: plan.balances.get(leg) for leg in LEGS})
        row.update({
            "kind": movement.kind,
            "quantity": abs(plan.delta),
            "delta": plan.delta,
            "counted_quantity": movement.counted_quantity,
            "expected_quantity": plan.expected,
            "unit_cost": movement.unit_cost,
            "occurred_at": intent.occurred_at,
            "user_id": user.pk,
            "reference": movement.reference,
            "reason": movement.reason,
            "idempotency_key": _part_key(movement.idempotency_key, intent.part),
            "request_fingerprint": movement.fingerprint(),
            "reverses_id": intent.original.pk if intent.original is not None else None,
            "allocation_id": None,
            "chain_format": chain.FORMAT,
        })
        rows.append(row)
    try:
        appended = store.append_chained(rows, guard_updates, now, allocations)
    except store.ClosedBefore as held_back:
        raise closes.refusal_under_lock(plans[held_back.offset].intent, batch=batch) from None
    for plan, movement in zip(plans, appended, strict=True):  # spare the serializer its queries
        Movement.reversed_by.related.set_cached_value(movement, None)  # new events are not reversed
        lot = plan.intent.lot
        Movement.lot.field.set_cached_value(movement, Lot(
            pk=lot.id, product_id=movement.product_id, code=lot.code, expires_on=lot.expires_on,
            manufactured_on=lot.manufactured_on,
        ) if lot is not None else None)
    return appended


def _part_key(key: str, part: int) -> str:
    """The key of an item's event after its first (an allocation is one event per lot, each keyed):
    derived from the item's key, within the key's length."""
    if part == 0:
        return key
    return f"part:{hashlib.sha256(key.encode()).hexdigest()[:40]}:{part}"
