"""The cost flow: what each movement of one product did to the value of its stock.

A pure function of the product's movements in business order ((``occurred_at``, ``position``)),
used alike by catching up, rebuilding, verifying and valuing as of a moment, so they cannot
disagree. Values are money (four places); every rounding is written once here.

The rules:

- **Level: per warehouse.** A product's stock in one warehouse is one cost pool (its FIFO layers,
  or its average). A transfer between warehouses moves the cost with the goods (FIFO: the oldest
  layers, keeping their cost and age; average: the quantity at the source's average); a transfer
  within a warehouse changes no value (its entries carry the quantity, value zero). A location's
  value is its share, by quantity, of its warehouse's (``selectors``). Why per warehouse: it is the
  level a warehouse's books are kept at, transfers between bins are not costed events, and an
  issue from a bin need not know which bin received the oldest layer.
- **Lots are not pools.** A lot-tracked product's layers are per warehouse like any other's; each
  entry names its lot for tracing. Per-lot layers would be specific identification, a third method;
  the product's own method (FIFO or average) stays what values it.
- **Receipt**: a layer at its unit cost (FIFO) or added to the average. Without a cost it takes the
  product's last known cost (any warehouse's last costed receipt) and is flagged; with none known,
  zero, flagged.
- **Issue**: consumes the oldest layers (FIFO) or the average; that value is its COGS.
- **Count**: a gain enters at the warehouse's current average (FIFO too: a new, newest layer),
  or the last cost when it holds none (flagged if none is known); a loss leaves as an issue does,
  but is an adjustment, not COGS.
- **Reversal**: restores exactly what its original did: the same layers (cost and age) or value
  go back (an issue's COGS is negated); a receipt's own layer is taken back (what of it is gone
  already, from the newest layers).
- Taking the last units of a pool takes all its value, so no residue of rounding stays behind.
  Taking more than a pool holds (the ledger refuses it; only a bug could do it) values the
  missing part at the last cost and flags the entry.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

AVERAGE = "average"
FIFO = "fifo"
CENT = Decimal("0.0001")  # money's last place (catalog.MONEY)
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Layer:
    """Stock of one receipt (or count gain) in one warehouse: its order of arrival ``seq``, the
    movement that brought it, when, at what unit cost, how much is left and what that is worth."""

    seq: int
    source: int
    received_at: datetime
    unit_cost: Decimal
    quantity: Decimal
    value: Decimal

    def take(self, quantity: Decimal) -> Layer:
        """Take ``quantity`` (at most all) off this layer; return what was taken as a layer."""
        value = self.value if quantity >= self.quantity else money(quantity * self.unit_cost)
        self.quantity -= quantity
        self.value -= value
        return Layer(self.seq, self.source, self.received_at, self.unit_cost, quantity, value)


@dataclass
class Pool:
    """A product's stock in one warehouse. FIFO keeps ``layers`` oldest first; the average keeps
    only ``quantity`` and ``value``."""

    quantity: Decimal = ZERO
    value: Decimal = ZERO
    layers: list[Layer] = field(default_factory=list)

    def average(self) -> Decimal | None:
        return self.value / self.quantity if self.quantity > 0 else None


@dataclass(frozen=True)
class Event:
    """The fields of a movement the cost flow reads (``leg`` of a reversal: its original's)."""

    position: int
    kind: str
    occurred_at: datetime
    location: int
    to_location: int | None
    lot: int | None
    quantity: Decimal
    delta: Decimal
    unit_cost: Decimal | None
    reverses: int | None

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.occurred_at, self.position)


@dataclass
class Entry:
    """What one leg of one movement did to the value: ``quantity`` and ``value`` signed (into the
    warehouse positive), ``cogs`` the cost of goods issued (an issue's; negated by its reversal),
    ``flow`` the kind of the movement or, for a reversal, of its original, ``pieces`` the layers (or
    the average's share) it added or took, for a reversal to restore exactly."""

    movement: int
    occurred_at: datetime
    flow: str
    reversal: bool
    location: int
    warehouse: int
    lot: int | None
    quantity: Decimal
    value: Decimal
    cogs: Decimal
    unit_cost: Decimal | None
    flagged: bool
    pieces: list = field(default_factory=list)  # [[seq, source, received_at iso, unit_cost, quantity, value], ...]


def _piece(layer: Layer) -> list:
    return [layer.seq, layer.source, layer.received_at.isoformat(), str(layer.unit_cost), str(layer.quantity), str(layer.value)]


def _layer(piece: list) -> Layer:
    seq, source, received_at, unit_cost, quantity, value = piece
    return Layer(seq, source, datetime.fromisoformat(received_at), Decimal(unit_cost), Decimal(quantity), Decimal(value))


@dataclass
class State:
    """A product's valuation after the movements applied so far: its pools by warehouse, its last
    known unit cost, the next layer's order, and the business key of the last movement applied."""

    method: str
    pools: dict[int, Pool] = field(default_factory=dict)
    last_cost: Decimal | None = None
    next_seq: int = 1
    last_key: tuple[datetime, int] | None = None

    def pool(self, warehouse: int) -> Pool:
        return self.pools.setdefault(warehouse, Pool())


class Valuer:
    """Applies one product's movements, in business order, to its ``State``.

    ``warehouse_of`` maps a location to its warehouse; ``entries_of`` gives the entries an earlier
    movement made (a reversal's original), when they are not among those this valuer made."""

    def __init__(self, state: State, warehouse_of: Mapping[int, int],
                 entries_of: Callable[[int], list[Entry]] | None = None):
        self.state = state
        self.warehouse_of = warehouse_of
        self.entries_of = entries_of
        self.made: dict[int, list[Entry]] = {}

    def apply_all(self, events: Iterable[Event]) -> list[Entry]:
        entries = []
        for event in events:
            entries.extend(self.apply(event))
        return entries

    def apply(self, event: Event) -> list[Entry]:
        if event.reverses is not None:
            entries = self._reverse(event)
        elif event.kind == "transfer":
            entries = self._transfer(event)
        elif event.delta > 0:
            entries = [self._receive(event)]
        else:
            entries = [self._take(event, event.location, -event.delta, event.kind)]
        self.made[event.position] = entries
        self.state.last_key = event.key
        return entries

    # -- into a pool -------------------------------------------------------------------------
    def _new_layer(self, event: Event, unit_cost: Decimal, quantity: Decimal) -> Layer:
        layer = Layer(self.state.next_seq, event.position, event.occurred_at, unit_cost, quantity, money(quantity * unit_cost))
        self.state.next_seq += 1
        return layer

    def _add(self, pool: Pool, layers: list[Layer]) -> None:
        for layer in layers:
            pool.quantity += layer.quantity
            pool.value += layer.value
            if self.state.method == FIFO:
                _insert(pool.layers, layer)

    def _receive(self, event: Event) -> Entry:
        """A receipt or a count's gain."""
        warehouse = self.warehouse_of[event.location]
        pool = self.state.pool(warehouse)
        quantity = event.delta
        flagged = False
        if event.kind == "receipt" and event.unit_cost is not None:
            unit_cost = event.unit_cost
            self.state.last_cost = unit_cost
        elif event.kind == "count" and pool.average() is not None:
            unit_cost = money(pool.average())
        elif self.state.last_cost is not None:
            unit_cost, flagged = self.state.last_cost, event.kind == "receipt"
        else:
            unit_cost, flagged = ZERO, True
        layer = self._new_layer(event, unit_cost, quantity)
        self._add(pool, [layer])
        return Entry(event.position, event.occurred_at, event.kind, False, event.location, warehouse, event.lot,
                     quantity, layer.value, ZERO, unit_cost, flagged, [_piece(layer)])

    # -- out of a pool -----------------------------------------------------------------------
    def _consume(self, event: Event, pool: Pool, quantity: Decimal, prefer: int | None = None) -> tuple[list[Layer], bool]:
        """Take ``quantity`` out of ``pool``: FIFO the oldest layers (``prefer``: a layer's seq to
        take first), the average its share. Returns the layers taken and whether some was missing."""
        taken: list[Layer] = []
        remaining = quantity
        if self.state.method == FIFO:
            if prefer:
                taken, remaining = _take_in_order(sorted(pool.layers, key=lambda layer: (layer.seq != prefer, layer.seq)), quantity)
                pool.layers = [layer for layer in pool.layers if layer.quantity > 0]
            else:
                taken, remaining = _take_in_order(pool.layers, quantity)
                # Only the oldest layers were taken, so the exhausted ones are a prefix: dropping it
                # keeps an issue's cost in the layers it takes, not in all the product holds (a
                # product with 100,000 events took 130 s to value).
                exhausted = next((index for index, layer in enumerate(pool.layers) if layer.quantity > 0), len(pool.layers))
                del pool.layers[:exhausted]
            pool.quantity -= quantity - remaining
            pool.value -= sum((piece.value for piece in taken), ZERO)
        else:
            share = min(quantity, pool.quantity) if pool.quantity > 0 else ZERO
            if share > 0:
                value = pool.value if share >= pool.quantity else money(pool.value * share / pool.quantity)
                taken.append(Layer(0, event.position, event.occurred_at, money(value / share), share, value))
                pool.quantity -= share
                pool.value -= value
            remaining = quantity - share
        if remaining > 0:  # the ledger never lets this happen: value the missing part at the last cost
            unit_cost = self.state.last_cost or ZERO
            taken.append(Layer(0, event.position, event.occurred_at, unit_cost, remaining, money(remaining * unit_cost)))
        if pool.quantity <= 0 and not pool.layers:
            pool.quantity, pool.value = ZERO, ZERO
        return taken, remaining > 0

    def _take(self, event: Event, location: int, quantity: Decimal, flow: str) -> Entry:
        """An issue or a count's loss at ``location``."""
        warehouse = self.warehouse_of[location]
        taken, short = self._consume(event, self.state.pool(warehouse), quantity)
        value = sum((piece.value for piece in taken), ZERO)
        return Entry(event.position, event.occurred_at, flow, False, location, warehouse, event.lot,
                     -quantity, -value, value if flow == "issue" else ZERO, _unit(value, quantity), short,
                     [_piece(piece) for piece in taken])

    def _transfer(self, event: Event) -> list[Entry]:
        source, target = (event.location, event.to_location) if event.delta < 0 else (event.to_location, event.location)
        return self._move(event, source, target, event.quantity, "transfer", reversal=False)

    def _move(self, event: Event, source: int, target: int, quantity: Decimal, flow: str, *, reversal: bool,
              pieces: list[Layer] | None = None) -> list[Entry]:
        """Move ``quantity`` from location ``source`` to ``target``; between warehouses the cost goes
        with it (``pieces``: the layers to move back first, for a reversal)."""
        from_warehouse, to_warehouse = self.warehouse_of[source], self.warehouse_of[target]
        if from_warehouse == to_warehouse:
            return [
                Entry(event.position, event.occurred_at, flow, reversal, source, from_warehouse, event.lot, -quantity, ZERO, ZERO, None, False),
                Entry(event.position, event.occurred_at, flow, reversal, target, to_warehouse, event.lot, quantity, ZERO, ZERO, None, False),
            ]
        pool = self.state.pool(from_warehouse)
        if pieces and self.state.method == FIFO:
            taken, short = self._take_back(event, pool, pieces, quantity)
        elif pieces:  # the average's reversal: the value that came, back
            value, short = _take_value(pool, quantity, sum((piece.value for piece in pieces), ZERO))
            taken = [Layer(0, event.position, event.occurred_at, money(value / quantity), quantity, value)]
        else:
            taken, short = self._consume(event, pool, quantity)
        self._add(self.state.pool(to_warehouse), taken)
        value = sum((piece.value for piece in taken), ZERO)
        listed = [_piece(piece) for piece in taken]
        unit = _unit(value, quantity)
        return [
            Entry(event.position, event.occurred_at, flow, reversal, source, from_warehouse, event.lot, -quantity, -value, ZERO, unit, short, listed),
            Entry(event.position, event.occurred_at, flow, reversal, target, to_warehouse, event.lot, quantity, value, ZERO, unit, short, listed),
        ]

    def _take_back(self, event: Event, pool: Pool, pieces: list[Layer], quantity: Decimal) -> tuple[list[Layer], bool]:
        """Take the layers ``pieces`` name out of ``pool`` (what of them is gone: the oldest others)."""
        taken: list[Layer] = []
        remaining = quantity
        by_seq = {layer.seq: layer for layer in pool.layers}
        for piece in pieces:
            layer = by_seq.get(piece.seq)
            if layer is None or remaining <= 0:
                continue
            part = layer.take(min(layer.quantity, piece.quantity, remaining))
            remaining -= part.quantity
            taken.append(part)
        pool.layers = [layer for layer in pool.layers if layer.quantity > 0]
        pool.quantity -= quantity - remaining
        pool.value -= sum((part.value for part in taken), ZERO)
        short = False
        if remaining > 0:
            rest, short = self._consume(event, pool, remaining)
            taken += rest
        return taken, short

    # -- reversals ---------------------------------------------------------------------------
    def _original(self, position: int) -> list[Entry]:
        if position in self.made:
            return self.made[position]
        return self.entries_of(position) if self.entries_of else []

    def _reverse(self, event: Event) -> list[Entry]:
        original = self._original(event.reverses)
        if not original:  # never valued (cannot happen: an original comes before its reversal)
            return []
        first = original[0]
        if first.flow == "transfer":
            out, into = (original[0], original[1]) if original[0].quantity < 0 else (original[1], original[0])
            pieces = [_layer(piece) for piece in into.pieces]
            return self._move(event, into.location, out.location, into.quantity, "transfer", reversal=True, pieces=pieces)
        warehouse = first.warehouse
        pool = self.state.pool(warehouse)
        if first.quantity < 0:  # an issue or a loss: the same layers (or value) come back
            restored = [_layer(piece) for piece in first.pieces]
            if self.state.method == AVERAGE:
                restored = [Layer(0, p.source, p.received_at, p.unit_cost, p.quantity, p.value) for p in restored]
            self._add(pool, restored)
            return [Entry(event.position, event.occurred_at, first.flow, True, first.location, warehouse, first.lot,
                          -first.quantity, -first.value, -first.cogs, first.unit_cost, first.flagged, first.pieces)]
        # a receipt or a gain: its own layer goes (FIFO), or its value (average)
        quantity = first.quantity
        if self.state.method == FIFO:
            own = _layer(first.pieces[0]).seq if first.pieces else None
            taken, short = self._consume_newest(event, pool, quantity, own)
            value = sum((piece.value for piece in taken), ZERO)
            pieces = [_piece(piece) for piece in taken]
        else:
            value, short = _take_value(pool, quantity, first.value)
            pieces = []
        return [Entry(event.position, event.occurred_at, first.flow, True, first.location, warehouse, first.lot,
                      -quantity, -value, ZERO, first.unit_cost, first.flagged or short, pieces)]

    def _consume_newest(self, event: Event, pool: Pool, quantity: Decimal, own: int | None) -> tuple[list[Layer], bool]:
        """A receipt's reversal under FIFO: its own layer first, then the newest others."""
        taken, remaining = _take_in_order(sorted(pool.layers, key=lambda layer: (layer.seq != own, -layer.seq)), quantity)
        pool.layers = [layer for layer in pool.layers if layer.quantity > 0]
        pool.quantity -= quantity - remaining
        pool.value -= sum((piece.value for piece in taken), ZERO)
        return taken, remaining > 0


def _take_in_order(layers: Iterable[Layer], quantity: Decimal) -> tuple[list[Layer], Decimal]:
    """Take ``quantity`` off ``layers`` in their order: the pieces taken, and what they lacked."""
    taken, remaining = [], quantity
    for layer in layers:
        if remaining <= 0:
            break
        piece = layer.take(min(layer.quantity, remaining))
        remaining -= piece.quantity
        taken.append(piece)
    return taken, remaining


def _take_value(pool: Pool, quantity: Decimal, value: Decimal) -> tuple[Decimal, bool]:
    """Take ``quantity`` worth ``value`` out of an average's pool (all that is left, when it is the
    last of it); returns the value taken and whether the pool held less than ``quantity``."""
    short = pool.quantity < quantity
    if quantity >= pool.quantity:
        value = pool.value
    pool.quantity = max(pool.quantity - quantity, ZERO)
    pool.value -= value
    if pool.quantity == 0:
        pool.value = ZERO
    return value, short


def _insert(layers: list[Layer], layer: Layer) -> None:
    """Keep FIFO layers oldest first (a layer moved or restored keeps its place by ``seq``, and
    joins what is left of itself); found by bisection, as a product may hold many layers."""
    index = bisect.bisect_left(layers, layer.seq, key=lambda existing: existing.seq)
    if index < len(layers) and layers[index].seq == layer.seq:
        layers[index].quantity += layer.quantity
        layers[index].value += layer.value
        return
    layers.insert(index, layer)


def _unit(value: Decimal, quantity: Decimal) -> Decimal | None:
    return money(value / quantity) if quantity else None


def value_product(method: str, events: Iterable[Event], warehouse_of: Mapping[int, int]) -> tuple[State, list[Entry]]:
    """Replay one product's movements (in business order) from nothing."""
    valuer = Valuer(State(method), warehouse_of)
    entries = valuer.apply_all(sorted(events, key=lambda event: event.key))
    return valuer.state, entries
