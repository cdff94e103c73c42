"""The posting path's SQL, and all of its row locking, in one place.

Posting locks, in this order and nowhere else:
1. the guard rows (``StockLevel``) of every product-location it touches, sorted by
   (product, location), so two postings never wait on each other in a cycle;
2. the ledger head, last, just before inserting: positions are handed out in commit order, so a
   reader that remembers "the last position I applied" can never skip a late-committing event.

Statements are written by hand because this is the hot path (an ORM statement costs more Python
than its round trip). They are portable between PostgreSQL and SQLite (3.35+: RETURNING,
ON CONFLICT); on PostgreSQL, statements that follow each other are sent in one round trip.
"""
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection

from .models import LedgerHead, Movement, StockLevel
from .quantities import from_db

_STOCK = StockLevel._meta.db_table
_HEAD = LedgerHead._meta.db_table
_MOVEMENT = Movement._meta.db_table
_INSERTED = [f.column for f in Movement._meta.concrete_fields if not f.primary_key]
_ATTRIBUTES = [f.attname for f in Movement._meta.concrete_fields if not f.primary_key]

Key = tuple[int, int]  # (product id, location id)


def _run(statements: Sequence[tuple[str, list]]) -> list[tuple]:
    """Execute statements in order; return the rows of the last. One round trip on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(";\n".join(sql for sql, _ in statements), [p for _, params in statements for p in params])
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def lock_stock_levels(keys: set[Key]) -> dict[Key, tuple[int, Decimal]]:
    """Lock (creating at zero where missing) the guard rows; return {key: (row id, on hand)}.

    One statement: an upsert that rewrites each row to itself takes its row lock and returns the
    committed quantity, for new and existing rows alike.
    """
    ordered = sorted(keys)
    values = ", ".join(["(%s, %s, 0)"] * len(ordered))
    rows = _run([(
        f"INSERT INTO {_STOCK} (product_id, location_id, quantity) VALUES {values} "
        f"ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = {_STOCK}.quantity "
        f"RETURNING id, product_id, location_id, quantity",
        [part for key in ordered for part in key],
    )])
    return {(product, location): (pk, from_db(quantity)) for pk, product, location, quantity in rows}


def write_stock_levels_and_advance_head(changed: dict[int, Decimal], count: int) -> tuple[int, str]:
    """Store new on-hand quantities for locked guard rows, then take the head's lock (last) and
    reserve ``count`` positions. Returns (the last position before them, its hash)."""
    statements = []
    if changed:
        cases = " ".join(["WHEN %s THEN %s"] * len(changed))
        ids = ", ".join(["%s"] * len(changed))
        params = [part for pk, quantity in changed.items() for part in (pk, quantity)]
        statements.append((f"UPDATE {_STOCK} SET quantity = CASE id {cases} END WHERE id IN ({ids})", [*params, *changed]))
    statements.append((f"UPDATE {_HEAD} SET position = position + %s WHERE id = 1 RETURNING position, hash", [count]))
    [(position, previous_hash)] = _run(statements)
    return position - count, previous_hash


INSERT_ROWS = 1000  # rows per INSERT: SQLite allows 32,766 parameters a statement


def append(movements: list[Movement]) -> None:
    """Record the last link on the head and insert the chained movements, setting their ids."""
    row = "(" + ", ".join(["%s"] * len(_INSERTED)) + ")"
    statements = [(f"UPDATE {_HEAD} SET hash = %s WHERE id = 1", [movements[-1].hash])]
    for start in range(0, len(movements), INSERT_ROWS):
        chunk = movements[start:start + INSERT_ROWS]
        statements.append((
            f"INSERT INTO {_MOVEMENT} ({', '.join(_INSERTED)}) VALUES {', '.join([row] * len(chunk))} RETURNING id",
            [_db_value(movement, attribute) for movement in chunk for attribute in _ATTRIBUTES],
        ))
        # Ids come from a sequence, in row order: the smallest belongs to the first row.
        for movement, (pk,) in zip(chunk, sorted(_run(statements)), strict=True):
            movement.pk = pk
            movement._state.adding = False
        statements = []


def _db_value(movement: Movement, attribute: str):
    value = getattr(movement, attribute)
    if attribute in _DATETIMES:
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, Decimal):
        return connection.ops.adapt_decimalfield_value(value)
    return value


_DATETIMES = {f.attname for f in Movement._meta.concrete_fields if f.get_internal_type() == "DateTimeField"}
