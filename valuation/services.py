"""Applying the ledger to the valuation: catch up, re-value a product from a business time, rebuild.

As the stock projections do (``projections.services``), each run locks the valuation's checkpoint
row first, so two workers (or a worker and a rebuild) take turns and never apply an event twice;
posting never waits for any of it (the worker runs it after the posting committed).

A catch-up applies the events past the checkpoint product by product. A product whose new events
all come after its last one in business time is valued on from its stored state (its layers); one
that received a backdated movement (dated before a movement of that product already in the ledger)
is re-valued from that movement's business time, that product only: its entries from then on are
replaced by a replay (``engine``), and the other products are not touched. A product whose method
changed is re-valued from its first movement.
"""
import io
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Location, Product
from ledger.models import Movement
from ledger.selectors import head_position

from . import engine
from .engine import AVERAGE, FIFO, Entry, Event, Layer, Pool, State, Valuer
from .models import Backdating, CostEntry, CostLayer, ProductValuation, ValuationCheckpoint

logger = logging.getLogger(__name__)

CHECKPOINT = "valuation"
CATCH_UP_CHUNK = 50_000  # events per transaction, as the stock projections
WRITE_BATCH = 5_000
EVENT_FIELDS = ("position", "kind", "occurred_at", "location_id", "to_location_id", "lot_id", "quantity", "delta", "unit_cost", "reverses_id")


def _event(row) -> Event:
    return Event(*row)


def warehouses_of_locations() -> dict[int, int]:
    return dict(Location.objects.values_list("id", "warehouse_id"))


def product_events(product: int, *, upto: int | None = None) -> list[Event]:
    """A product's movements up to a position, in business order."""
    movements = Movement.objects.filter(product_id=product)
    if upto is not None:
        movements = movements.filter(position__lte=upto)
    return [_event(row) for row in movements.order_by("occurred_at", "position").values_list(*EVENT_FIELDS)]


def backdated_positions(events: Iterable[Event], since: tuple[datetime, int] | None = None) -> list[Event]:
    """The movements (in position order) dated before one that came earlier in the ledger (or
    before ``since``, the last one already applied)."""
    latest = since
    found = []
    for event in sorted(events, key=lambda event: event.position):
        if latest is not None and event.key < latest:
            found.append(event)
        else:
            latest = event.key
    return found


# -- stored state ------------------------------------------------------------------------------
def _state(valuation: ProductValuation, layers: list[CostLayer]) -> State:
    state = State(valuation.method, last_cost=valuation.last_cost, next_seq=valuation.next_seq)
    if valuation.last_occurred_at is not None:
        state.last_key = (valuation.last_occurred_at, valuation.last_position)
    for row in sorted(layers, key=lambda row: row.seq):
        pool = state.pool(row.warehouse_id)
        pool.quantity += row.quantity
        pool.value += row.value
        if valuation.method == FIFO:
            pool.layers.append(Layer(row.seq, row.source_id, row.received_at, row.unit_cost, row.quantity, row.value))
    return state


def layer_rows(product: int, state: State) -> list[CostLayer]:
    rows = []
    for warehouse, pool in state.pools.items():
        if state.method == FIFO:
            rows += [
                CostLayer(product_id=product, warehouse_id=warehouse, seq=layer.seq, source_id=layer.source,
                          received_at=layer.received_at, unit_cost=layer.unit_cost, quantity=layer.quantity, value=layer.value)
                for layer in pool.layers if layer.quantity or layer.value
            ]
        elif pool.quantity or pool.value:
            unit = (pool.value / pool.quantity).quantize(Decimal("1e-10")) if pool.quantity else None
            rows.append(CostLayer(product_id=product, warehouse_id=warehouse, seq=0, unit_cost=unit, quantity=pool.quantity, value=pool.value))
    return rows


ENTRY_COLUMNS = ("movement_id", "product_id", "warehouse_id", "location_id", "lot_id", "occurred_at", "flow", "reversal",
                 "quantity", "value", "cogs", "unit_cost", "flagged", "pieces")


def entry_rows(product: int, entries: Iterable[Entry]) -> Iterator[tuple]:
    """A product's entries as cost entry rows: values in ``ENTRY_COLUMNS`` order."""
    for e in entries:
        yield (e.movement, product, e.warehouse, e.location, e.lot, e.occurred_at, e.flow, e.reversal,
               e.quantity, e.value, e.cogs, e.unit_cost, e.flagged, e.pieces)


def _copy_line(row: tuple) -> str:
    """A row in COPY's text format. Only ``pieces`` (JSON) could hold a backslash, COPY's escape;
    ``flow`` is a movement kind, the rest numbers, booleans and times."""
    *values, pieces = row
    cells = ["\\N" if value is None else str(value) for value in values]
    cells.append(json.dumps(pieces).replace("\\", "\\\\"))
    return "\t".join(cells) + "\n"


def _insert_entries(rows: list[tuple]) -> None:
    """On PostgreSQL by COPY (the ORM's bulk INSERT spent most of a rebuild preparing each value;
    PostgreSQL rounds the decimals to their columns as it does for an INSERT); elsewhere by the ORM."""
    if connection.vendor != "postgresql":
        CostEntry.objects.bulk_create([CostEntry(**dict(zip(ENTRY_COLUMNS, row))) for row in rows])
        return
    statement = f"COPY {connection.ops.quote_name(CostEntry._meta.db_table)} ({', '.join(ENTRY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(statement, io.StringIO("".join(map(_copy_line, rows))))


def _stored_entry(row: CostEntry) -> Entry:
    return Entry(row.movement_id, row.occurred_at, row.flow, row.reversal, row.location_id, row.warehouse_id, row.lot_id,
                 row.quantity, row.value, row.cogs, row.unit_cost, row.flagged, row.pieces)


def _entries_by_movement(positions: Iterable[int]) -> dict[int, list[Entry]]:
    found: dict[int, list[Entry]] = defaultdict(list)
    for row in CostEntry.objects.filter(movement_id__in=list(positions)).order_by("id"):
        found[row.movement_id].append(_stored_entry(row))
    return found


def _in_batches(rows: Iterable, write: Callable[[list], object]) -> int:
    """``write`` the rows ``WRITE_BATCH`` at a time; return how many."""
    batch, written = [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= WRITE_BATCH:
            write(batch)
            written += len(batch)
            batch = []
    if batch:
        write(batch)
        written += len(batch)
    return written


def _bulk(rows: Iterable, model) -> int:
    return _in_batches(rows, model.objects.bulk_create)


def _write_entries(rows: Iterable[tuple]) -> int:
    return _in_batches(rows, _insert_entries)


def _valuation_fields(state: State) -> dict:
    last_at, last_position = state.last_key if state.last_key else (None, 0)
    return {
        "method": state.method, "last_occurred_at": last_at, "last_position": last_position,
        "last_cost": state.last_cost, "next_seq": state.next_seq,
        "quantity": sum((pool.quantity for pool in state.pools.values()), Decimal(0)),
        "value": sum((pool.value for pool in state.pools.values()), Decimal(0)),
    }


def _save_valuation(product: int, state: State, *, recomputed_seconds: float | None = None) -> None:
    fields = _valuation_fields(state)
    if recomputed_seconds is not None:
        fields.update(recomputed_at=timezone.now(), recompute_seconds=recomputed_seconds)
    ProductValuation.objects.update_or_create(product_id=product, defaults=fields)
    CostLayer.objects.filter(product_id=product).delete()
    CostLayer.objects.bulk_create(layer_rows(product, state))


# -- re-valuing one product ---------------------------------------------------------------------
def product_revalue(*, product: int, method: str, upto: int, since: tuple[datetime, int] | None = None,
                    warehouse_of: dict[int, int] | None = None) -> int:
    """Re-value one product from business key ``since`` (None: from its first movement) with the
    ledger up to ``upto``: its state there is replayed, its entries from there on replaced.
    Returns the entries written."""
    started = time.monotonic()
    warehouse_of = warehouse_of or warehouses_of_locations()
    state, entries = engine.value_product(method, product_events(product, upto=upto), warehouse_of)
    stored = CostEntry.objects.filter(product_id=product)
    if since is not None:
        at, position = since
        stored = stored.filter(Q(occurred_at__gt=at) | Q(occurred_at=at, movement_id__gte=position))
        entries = [entry for entry in entries if (entry.occurred_at, entry.movement) >= since]
    stored.delete()
    written = _write_entries(entry_rows(product, entries))
    _save_valuation(product, state, recomputed_seconds=time.monotonic() - started)
    return written


# -- catching up --------------------------------------------------------------------------------
def _locked_checkpoint() -> ValuationCheckpoint:
    checkpoint, _ = ValuationCheckpoint.objects.get_or_create(name=CHECKPOINT)
    return ValuationCheckpoint.objects.select_for_update().get(pk=checkpoint.pk)


def _changed_methods() -> list[tuple[int, str]]:
    return list(
        ProductValuation.objects.exclude(method=F("product__valuation_method")).values_list("product_id", "product__valuation_method")
    )


def _apply(*, after: int, upto: int) -> None:
    warehouse_of = warehouses_of_locations()
    by_product: dict[int, list[Event]] = defaultdict(list)
    rows = Movement.objects.filter(position__gt=after, position__lte=upto).order_by("position").values_list("product_id", *EVENT_FIELDS)
    for product, *fields in rows.iterator(chunk_size=10_000):
        by_product[product].append(Event(*fields))
    methods = dict(Product.objects.filter(id__in=by_product).values_list("id", "valuation_method"))
    valuations = ProductValuation.objects.in_bulk(list(by_product))
    layers: dict[int, list[CostLayer]] = defaultdict(list)
    for layer in CostLayer.objects.filter(product_id__in=list(by_product)):
        layers[layer.product_id].append(layer)
    in_range = {event.position for events in by_product.values() for event in events}
    originals = _entries_by_movement(
        {event.reverses for events in by_product.values() for event in events if event.reverses and event.reverses not in in_range}
    )
    new_entries: list[tuple] = []
    for product, events in by_product.items():
        method = methods.get(product, AVERAGE)
        valuation = valuations.get(product)
        if valuation is not None and valuation.method != method:
            product_revalue(product=product, method=method, upto=upto, warehouse_of=warehouse_of)
            continue
        since = (valuation.last_occurred_at, valuation.last_position) if valuation and valuation.last_occurred_at else None
        backdated = backdated_positions(events, since)
        if backdated:
            Backdating.objects.bulk_create(
                [Backdating(product_id=product, position=event.position, occurred_at=event.occurred_at) for event in backdated]
            )
            # From the earliest of this chunk's events of the product, not of the backdated ones
            # alone: none of them has entries yet, and one dated before a backdated one would be lost.
            earliest = min(event.key for event in events)
            product_revalue(product=product, method=method, upto=upto, since=earliest, warehouse_of=warehouse_of)
            continue
        state = _state(valuation, layers[product]) if valuation else State(method)
        valuer = Valuer(state, warehouse_of, entries_of=lambda position: originals.get(position, []))
        new_entries.extend(entry_rows(product, valuer.apply_all(events)))  # in position order = business order here
        _save_valuation(product, state)
    _write_entries(new_entries)


def valuation_catch_up(*, chunk: int = CATCH_UP_CHUNK) -> int:
    """Apply every committed event past the checkpoint (and re-value products whose method
    changed); return how many events were applied."""
    applied = 0
    started = time.monotonic()
    while True:
        with transaction.atomic():
            checkpoint = _locked_checkpoint()
            warehouse_of = None
            for product, method in _changed_methods():
                warehouse_of = warehouse_of or warehouses_of_locations()
                product_revalue(product=product, method=method, upto=checkpoint.position, warehouse_of=warehouse_of)
            head = head_position()
            upto = min(head, checkpoint.position + chunk)
            if upto <= checkpoint.position:
                return applied
            _apply(after=checkpoint.position, upto=upto)
            applied += upto - checkpoint.position
            checkpoint.applied(upto, seconds=time.monotonic() - started)
        if upto == head:
            return applied


def valuation_catch_up_or_record() -> int | str:
    """The task's body: a failure is kept on the checkpoint (shown by the status), not raised."""
    try:
        return valuation_catch_up()
    except DatabaseError as error:
        logger.error("valuation could not catch up: %s", error)
        ValuationCheckpoint.failed(CHECKPOINT, str(error))
        return f"failed: {error}"


# -- rebuilding ---------------------------------------------------------------------------------
def _events_by_product(upto: int) -> Iterator[tuple[int, list[Event]]]:
    """Every product's movements up to ``upto``, one product at a time, in business order."""
    rows = (
        Movement.objects.filter(position__lte=upto).order_by("product_id", "occurred_at", "position")
        .values_list("product_id", *EVENT_FIELDS).iterator(chunk_size=20_000)
    )
    current, events = None, []
    for product, *fields in rows:
        if product != current:
            if events:
                yield current, events
            current, events = product, []
        events.append(Event(*fields))
    if events:
        yield current, events


def valuation_rebuild() -> int:
    """Re-value every product from the first event, in one transaction (readers see the old rows
    until the commit). Returns the number of events replayed."""
    with transaction.atomic():
        checkpoint = _locked_checkpoint()
        started = time.monotonic()
        head = head_position()
        for model in (CostEntry, CostLayer, ProductValuation, Backdating):
            model.objects.all().delete()
        warehouse_of = warehouses_of_locations()
        methods = dict(Product.objects.values_list("id", "valuation_method"))
        backdatings: list[Backdating] = []
        valuations: list[ProductValuation] = []
        layers: list[CostLayer] = []

        def entries() -> Iterator[tuple]:
            for product, events in _events_by_product(head):
                state, made = engine.value_product(methods[product], events, warehouse_of)
                backdatings.extend(
                    Backdating(product_id=product, position=event.position, occurred_at=event.occurred_at)
                    for event in backdated_positions(events)
                )
                valuations.append(ProductValuation(product_id=product, **_valuation_fields(state)))
                layers.extend(layer_rows(product, state))
                yield from entry_rows(product, made)

        _write_entries(entries())
        for rows, model in ((backdatings, Backdating), (valuations, ProductValuation), (layers, CostLayer)):
            _bulk(rows, model)
        checkpoint.rebuilt(head, seconds=time.monotonic() - started)
    return head
