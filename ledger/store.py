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
import functools
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import connection

from . import chain
from .models import LedgerHead, Movement, StockLevel
from .quantities import from_db

_STOCK = StockLevel._meta.db_table
_HEAD = LedgerHead._meta.db_table
_MOVEMENT = Movement._meta.db_table
_INSERTED = [f.column for f in Movement._meta.concrete_fields]
_ATTRIBUTES = [f.attname for f in Movement._meta.concrete_fields]

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


def _stock_update(changed: dict[int, Decimal]) -> tuple[str, list]:
    """New on-hand quantities for locked guard rows, by row id. UPDATE ... FROM VALUES: one pass
    however many rows (a CASE per row would be quadratic)."""
    values = ", ".join(["(%s, %s)"] * len(changed))
    return (
        f"UPDATE {_STOCK} SET quantity = v.column2 FROM (VALUES {values}) AS v WHERE {_STOCK}.id = v.column1",
        [part for pk, quantity in changed.items() for part in (pk, quantity)],
    )


def _write_stock_levels_and_advance_head(changed: dict[int, Decimal], count: int) -> tuple[int, str]:
    """Store new on-hand quantities for locked guard rows, then take the head's lock (last) and
    reserve ``count`` positions. Returns (the last position before them, its hash)."""
    statements = [_stock_update(changed)] if changed else []
    statements.append((f"UPDATE {_HEAD} SET position = position + %s WHERE id = 1 RETURNING position, hash", [count]))
    [(position, previous_hash)] = _run(statements)
    return position - count, previous_hash


def append_chained(rows: list[dict], changed: dict[int, Decimal]) -> list[Movement]:
    """Write the guard rows, take the head's lock (last), give the events their positions and
    chain links, and insert them. ``rows`` hold each event's values by attribute name, but for
    ``position`` and ``hash``, which this fills in.

    A single movement on PostgreSQL goes in one round trip: the database takes the head, writes
    the canonical text, hashes it and inserts (``chain.canonical_sql``, held equal to Python's by a
    test). Otherwise the head is advanced first and Python chains the events.
    """
    if connection.vendor == "postgresql" and len(rows) == 1:
        return [_append_one(rows[0], changed)]
    previous_position, previous_hash = _write_stock_levels_and_advance_head(changed, len(rows))
    for offset, row in enumerate(rows, start=1):
        row["position"] = previous_position + offset
        previous_hash = row["hash"] = chain.link(previous_hash, [row[f] for f in chain.CHAINED_FIELDS])
    return _append(rows)


_GIVEN = [f for f in Movement._meta.concrete_fields if f.attname not in ("position", "hash")]


@functools.cache
def _append_one_sql() -> str:
    """Built once per process: it depends only on the model and the database's types."""
    given = ", ".join(f"%s::{f.db_type(connection)} AS {f.column}" for f in _GIVEN)
    columns = ", ".join(f.column for f in _GIVEN)
    link = f"encode(sha256(convert_to(head.hash || E'\\n' || {chain.canonical_sql(Movement, 'e')}, 'UTF8')), 'hex')"
    return f"""
        WITH head AS (SELECT position, hash FROM {_HEAD} WHERE id = 1 FOR UPDATE),
        e AS (SELECT head.position + 1 AS position, {given} FROM head),
        inserted AS (
            INSERT INTO {_MOVEMENT} (position, {columns}, hash)
            SELECT e.position, {columns}, {link} FROM e, head
            RETURNING position, hash
        )
        UPDATE {_HEAD} SET position = inserted.position, hash = inserted.hash FROM inserted
        WHERE {_HEAD}.id = 1 RETURNING inserted.position, inserted.hash
    """


def _append_one(row: dict, changed: dict[int, Decimal]) -> Movement:
    statements = [_stock_update(changed)] if changed else []
    statements.append((_append_one_sql(), [row[f.attname] for f in _GIVEN]))
    [(row["position"], row["hash"])] = _run(statements)
    return _stored([row[attribute] for attribute in _ATTRIBUTES])


INSERT_ROWS = 1000  # rows per INSERT: SQLite allows 32,766 parameters a statement
COPY_FROM = 50  # on PostgreSQL, larger appends go by COPY: far less to send and parse than INSERT


def _append(rows: list[dict]) -> list[Movement]:
    """Record the last link on the head and insert the chained movements, given as
    {attribute name: value}; return them as model instances."""
    values = [[row[attribute] for attribute in _ATTRIBUTES] for row in rows]
    seal = (f"UPDATE {_HEAD} SET hash = %s WHERE id = 1", [rows[-1]["hash"]])
    columns = ", ".join(_INSERTED)
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
        _run([seal])
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {_MOVEMENT} ({columns}) FROM STDIN", io.StringIO(_copy_text(values)))
    else:
        placeholders = "(" + ", ".join(["%s"] * len(_INSERTED)) + ")"
        statements = [seal]
        for start in range(0, len(values), INSERT_ROWS):
            chunk = values[start:start + INSERT_ROWS]
            statements.append((
                f"INSERT INTO {_MOVEMENT} ({columns}) VALUES {', '.join([placeholders] * len(chunk))}",
                [_adapted(value, index) for row in chunk for index, value in enumerate(row)],
            ))
        _run(statements)
    return [_stored(row) for row in values]


def _stored(values: list) -> Movement:
    """The model instance of a row just inserted (values in field order), built positionally."""
    movement = Movement(*values)
    movement._state.adding = False
    return movement


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(values: list[list]) -> str:
    """Rows in COPY's text format: tab-separated, \\N for null, backslash escapes in text."""
    lines = []
    for row in values:
        fields = []
        for value in row:
            if value is None:
                fields.append("\\N")
            elif isinstance(value, str):
                fields.append(value.translate(_COPY_ESCAPES))
            elif isinstance(value, datetime):
                fields.append(value.isoformat())
            else:
                fields.append(str(value))
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def _adapted(value, index: int):
    """A value as the database driver takes it (SQLite wants datetimes as text in UTC)."""
    return connection.ops.adapt_datetimefield_value(value) if index in _DATETIME_INDEXES else value


_DATETIME_INDEXES = {
    i for i, f in enumerate(Movement._meta.concrete_fields) if f.get_internal_type() == "DateTimeField"
}
