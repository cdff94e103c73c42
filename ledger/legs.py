"""A movement's legs: the one definition of how a movement changes stock.

A movement changes the stock of its product at ``location`` by its signed ``delta``; a transfer
also changes it at ``to_location``, by ``-delta``. Each of those is a leg. A reversal has its
original's delta negated, so its legs are the original's, negated. (How each kind signs its delta
is a rule of posting: ``services``.)

Everything that works stock out of the ledger derives from ``LEGS``: posting and what shows a
movement (``placed_legs``, ``route``, ``any_leg``), and the SQL of the projections, of stock as of
a moment and of the history a backdated posting is checked against (``legs_sql``,
``legs_of_totals_sql``, ``product_change_sql``). Stock is kept per ``StockKey``; a new dimension of
it (a lot) is a field of ``StockKey`` and a column of ``Leg.key_fields``: here, and nowhere else.
This module builds on nothing of the ledger's own, so the model can use it too.
"""
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db.models import Q


class StockKey(NamedTuple):
    """Where stock is kept: a guard row, a projection row and a timeline are each one key's. A
    product tracked by lot keeps its stock per lot; any other has ``lot`` None."""

    product: int
    location: int
    lot: int | None


def key_order(key: StockKey) -> tuple:
    """The order guard rows are locked in, the same for every posting: untracked keys, then lots."""
    return (key.lot is not None, key.product, key.location, key.lot or 0)


@dataclass(frozen=True, eq=False)  # each leg is one object of LEGS: compared and hashed by identity
class Leg:
    """One place a movement changes stock: the location field that names it, the sign of the
    change there (times the movement's ``delta``), and the field that holds the balance after."""

    location: str  # the movement's relation to the location: "location", "to_location"
    sign: int
    balance_field: str
    always: bool  # every movement has this leg; otherwise only one whose location field is set
    location_field: str = field(init=False)  # "location_id"
    key_fields: tuple[str, ...] = field(init=False)  # the movement's fields that make its StockKey, in order

    def __post_init__(self):
        object.__setattr__(self, "location_field", f"{self.location}_id")
        object.__setattr__(self, "key_fields", ("product_id", self.location_field, "lot_id"))

    def change(self, delta: Decimal) -> Decimal:
        return delta if self.sign > 0 else -delta


LEGS = (
    Leg("location", sign=1, balance_field="balance_after", always=True),
    Leg("to_location", sign=-1, balance_field="to_balance_after", always=False),
)
# A movement's fields that place it, whichever legs it has: what a posting copies onto its row.
KEY_FIELDS = tuple(dict.fromkeys(name for leg in LEGS for name in leg.key_fields))
# The guard rows' and the projections' columns for a StockKey, in its order.
KEY_COLUMNS = tuple(f"{name}_id" for name in StockKey._fields)


def reversed_delta(original_delta: Decimal) -> Decimal:
    """A reversal has its original's legs with the opposite sign."""
    return -original_delta


class PlacedLeg(NamedTuple):
    """A leg of one movement: which leg, and the key of the stock it changes."""

    leg: Leg
    key: StockKey


def placed_legs(movement) -> list[PlacedLeg]:
    """The legs ``movement`` has and the key each changes. ``movement`` is anything with the
    movement's fields as attributes (a ``Movement``, a posting's intent)."""
    return [
        PlacedLeg(leg, StockKey(*(getattr(movement, field) for field in leg.key_fields)))
        for leg in LEGS
        if leg.always or getattr(movement, leg.location_field) is not None
    ]


def route(movement) -> tuple[Leg | None, Leg | None]:
    """(the leg stock left, the leg it arrived at): a transfer runs from ``location`` to
    ``to_location`` and its reversal back; a movement of one leg is one or the other by the sign of
    its change (a count that found no difference counts as arriving)."""
    source = target = None
    for leg, _ in placed_legs(movement):
        if leg.change(movement.delta) < 0:
            source = leg
        else:
            target = leg
    return source, target


def any_leg(**lookups) -> Q:
    """Movements with a leg at a location that matches ``lookups``, written as on ``Location``
    (``id=5``, ``warehouse_id=2``)."""
    return reduce(or_, (
        Q(**{f"{leg.location}__{name}": value for name, value in lookups.items()}) for leg in LEGS
    ))


def legs_sql(ledger: str, where: str, *, extra: Sequence[str] = ()) -> str:
    """Every leg of the movements ``m`` in table ``ledger`` that match ``where``, as rows of the key's
    columns (``product_id``, ``location_id``, ``lot_id``), then the ``extra`` columns of the
    movement, then the signed ``change``. In ``where``, ``{product}``, ``{location}`` and ``{lot}``
    stand for the leg's key columns (a leg that is not always there also needs its location set)."""
    branches = []
    for leg in LEGS:
        columns = {name: f"m.{field}" for name, field in zip(StockKey._fields, leg.key_fields, strict=True)}
        selected = [f"{column} AS {name}_id" for name, column in columns.items()]
        selected += [f"m.{column} AS {column}" for column in extra]
        selected.append(f"{'' if leg.sign > 0 else '-'}m.delta AS change")
        condition = where.format(**columns)
        if not leg.always:
            condition += f" AND {columns['location']} IS NOT NULL"
        branches.append(f"SELECT {', '.join(selected)} FROM {ledger} m WHERE {condition}")
    return "\n UNION ALL\n".join(branches)


def legs_of_totals_sql(totals: str, *, carried: Sequence[str] = ()) -> str:
    """``legs_sql``'s rows (``product_id``, ``location_id``, ``lot_id``, ``change``) of ``totals``, a
    relation of movements' ``KEY_FIELDS`` and summed ``delta`` (legs are linear in the delta, so
    movements may be summed per key fields first), read once (PostgreSQL's ``LATERAL``), then the
    ``carried`` columns on the first leg only (0 on the others), so a sum over legs counts them once."""
    rows = []
    for n, leg in enumerate(LEGS):
        change = f"{'' if leg.sign > 0 else '-'}m.delta"
        carried_values = [f"m.{column}" if n == 0 else "0" for column in carried]
        rows.append(f"({', '.join([*(f'm.{name}' for name in leg.key_fields), change, *carried_values])})")
    names = ", ".join([*KEY_COLUMNS, "change", *carried])
    return (
        f"SELECT leg.* FROM {totals} m CROSS JOIN LATERAL (VALUES {', '.join(rows)}) AS leg({names}) "
        f"WHERE leg.location_id IS NOT NULL"
    )


def product_change_sql() -> str:
    """The change movement ``m`` makes to its product's stock over all locations: its legs summed
    (a transfer's cancel out)."""
    terms = []
    for leg in LEGS:
        change = f"{'' if leg.sign > 0 else '-'}m.delta"
        terms.append(change if leg.always else f"CASE WHEN m.{leg.location_field} IS NOT NULL THEN {change} ELSE 0 END")
    return " + ".join(terms)
