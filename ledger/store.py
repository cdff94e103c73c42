"""The posting path's SQL, and all of its row locking, in one place.

Posting locks, in this order and nowhere else:
1. the guard rows (``StockLevel``) of every product-location it touches, sorted by
   (product, location), so two postings never wait on each other in a cycle;
2. the ledger head, last, just before inserting: positions are handed out in commit order, so a
   reader that remembers "the last position I applied" can never skip a late-committing event.
   Taking it, a posting reads the head's ``closed_before`` (the latest period close's cutoff) as
   the last close to commit left it, and appends nothing dated before it (``ClosedBefore``).
   Recording a period close takes the same lock (``lock_head``), so no close can commit between a
   posting's check and its commit.

Statements are written by hand because this is the hot path (an ORM statement costs more Python
than its round trip). They are portable between PostgreSQL and SQLite (3.35+: RETURNING,
ON CONFLICT); on PostgreSQL, statements that follow each other are sent in one round trip.
"""
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.utils.dateparse import parse_datetime

from . import chain
from .legs import KEY_COLUMNS, LEGS, StockKey, key_order, legs_sql
from .models import LedgerHead, Movement, StockLevel
from .quantities import from_db
from .timeline import StockChange

_STOCK = StockLevel._meta.db_table
_HEAD = LedgerHead._meta.db_table
_MOVEMENT = Movement._meta.db_table
_INSERTED = [f.column for f in Movement._meta.concrete_fields]
_ATTRIBUTES = [f.attname for f in Movement._meta.concrete_fields]

HISTORY_KEYS = 200  # product-locations per history read
GUARD_ROWS = 5000  # guard rows per statement: SQLite takes at most 32,766 parameters in one


class Statement(NamedTuple):
    sql: str
    params: list


def _run(statements: Sequence[Statement]) -> list[tuple]:
    """Execute statements in order; return the rows of the last. One round trip on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(";\n".join(s.sql for s in statements), [p for s in statements for p in s.params])
        else:
            for statement in statements:
                cursor.execute(statement.sql, statement.params)
        return cursor.fetchall() if cursor.description else []


@dataclass(frozen=True, slots=True)
class GuardRow:
    """A locked guard row: the on-hand quantity of one product-location and the latest business
    time of any movement there (None: none yet)."""

    id: int
    quantity: Decimal
    last_occurred_at: datetime | None


@dataclass(frozen=True, slots=True)
class GuardUpdate:
    """What a posting leaves on a guard row it changed."""

    quantity: Decimal
    last_occurred_at: datetime


def lock_stock_levels(keys: set[StockKey]) -> dict[StockKey, GuardRow]:
    """Lock (creating at zero where missing) the guard rows; return them by key.

    One statement per ``GUARD_ROWS`` keys, in ``key_order`` (untracked keys, then lots, each on
    its own partial unique key): an upsert that rewrites each row to itself takes its row lock and
    returns the committed values, for new and existing rows alike.
    """
    ordered = sorted(keys, key=key_order)
    untracked = [key for key in ordered if key.lot is None]
    locked = {}
    for chunk_keys, columns, target in (
        (untracked, KEY_COLUMNS[:-1], f"({', '.join(KEY_COLUMNS[:-1])}) WHERE lot_id IS NULL"),
        (ordered[len(untracked):], KEY_COLUMNS, f"({', '.join(KEY_COLUMNS)}) WHERE lot_id IS NOT NULL"),
    ):
        row = "(" + "%s, " * len(columns) + "0)"
        for start in range(0, len(chunk_keys), GUARD_ROWS):
            chunk = chunk_keys[start:start + GUARD_ROWS]
            rows = _run([Statement(
                f"INSERT INTO {_STOCK} ({', '.join(columns)}, quantity) VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT {target} DO UPDATE SET quantity = {_STOCK}.quantity "
                f"RETURNING id, quantity, last_occurred_at, {', '.join(KEY_COLUMNS)}",
                [part for key in chunk for part in key[:len(columns)]],
            )])
            locked.update({
                StockKey(*key): GuardRow(pk, from_db(quantity), datetime_from_db(last))
                for pk, quantity, last, *key in rows
            })
    return locked


def stock_changes_after(earliest: dict[StockKey, datetime]) -> dict[StockKey, list[StockChange]]:
    """For each key, the changes by movements dated after its time (business time), in time order:
    what a backdated posting must check against. One statement for them all. Called with the guard
    rows locked, so no posting can add to them meanwhile. Each leg is indexed on (product, its
    location, occurred_at)."""
    branches = {
        tracked: legs_sql(
            _MOVEMENT, f"{{product}} = %s AND {{location}} = %s AND {{lot}} {'= %s' if tracked else 'IS NULL'} "
            "AND m.occurred_at > %s", extra=("occurred_at",),
        )
        for tracked in (False, True)
    }
    changes: dict[StockKey, list[StockChange]] = {key: [] for key in earliest}
    keys = list(earliest)
    for start in range(0, len(keys), HISTORY_KEYS):  # SQLite joins at most 500 SELECTs in one
        chunk = keys[start:start + HISTORY_KEYS]
        params = []
        for key in chunk:
            given = key if key.lot is not None else key[:-1]
            params += [*given, connection.ops.adapt_datetimefield_value(earliest[key])] * len(LEGS)  # once per leg
        sql = " UNION ALL ".join(branches[key.lot is not None] for key in chunk) + " ORDER BY occurred_at"
        for *key, at, change in _run([Statement(sql, params)]):
            changes[StockKey(*key)].append(StockChange(datetime_from_db(at), from_db(change)))
    return changes


def datetime_from_db(value) -> datetime | None:
    """A time read by raw SQL: PostgreSQL gives an aware datetime; SQLite gives UTC, as text or
    (for a column declared datetime) as a naive datetime."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _stock_updates(changed: dict[int, GuardUpdate]) -> list[Statement]:
    """New values for locked guard rows, by row id. UPDATE ... FROM VALUES: one pass however many
    rows (a CASE per row would be quadratic), one statement per ``GUARD_ROWS`` rows."""
    adapt = connection.ops.adapt_datetimefield_value
    items = list(changed.items())
    statements = []
    for start in range(0, len(items), GUARD_ROWS):
        chunk = items[start:start + GUARD_ROWS]
        statements.append(Statement(
            f"UPDATE {_STOCK} SET quantity = v.column2, last_occurred_at = v.column3 "
            f"FROM (VALUES {', '.join(['(%s, %s, %s)'] * len(chunk))}) AS v WHERE {_STOCK}.id = v.column1",
            [part for pk, update in chunk for part in (pk, update.quantity, adapt(update.last_occurred_at))],
        ))
    return statements


def _latest_sql(given: str, stored: str) -> str:
    """The later of two times, where ``stored`` may be null (a new ledger)."""
    if connection.vendor == "postgresql":
        return f"greatest({given}::timestamptz, {stored})"
    return f"max({given}, coalesce({stored}, {given}))"


class ClosedBefore(Exception):
    """The event at ``offset`` among those to append is dated before the head's ``closed_before``,
    read under the head's lock: inside a closed period. Nothing is appended."""

    def __init__(self, offset: int):
        super().__init__(f"event {offset} is dated inside a closed period")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Reserved:
    """Positions reserved on the head for appending: they follow ``previous_position``, whose
    chain link is ``previous_hash``, and are recorded at ``recorded_at``; nothing may be dated
    before ``closed_before`` (None: no period is closed)."""

    previous_position: int
    previous_hash: str
    recorded_at: datetime
    closed_before: datetime | None


def _write_stock_levels_and_reserve(changed: dict[int, GuardUpdate], count: int, now: datetime) -> Reserved:
    """Store new values for locked guard rows, then take the head's lock (last) and reserve
    ``count`` positions, recorded at ``now`` (or at the last event's time if this clock is behind it)."""
    statements = _stock_updates(changed)
    statements.append(Statement(
        f"UPDATE {_HEAD} SET position = position + %s, recorded_at = {_latest_sql('%s', 'recorded_at')} "
        f"WHERE id = 1 RETURNING position, hash, recorded_at, closed_before",
        [count, *[connection.ops.adapt_datetimefield_value(now)] * (1 if connection.vendor == "postgresql" else 2)],
    ))
    [(position, previous_hash, recorded_at, closed_before)] = _run(statements)
    return Reserved(position - count, previous_hash, datetime_from_db(recorded_at), datetime_from_db(closed_before))


def append_chained(
    rows: list[dict], changed: dict[int, GuardUpdate], now: datetime, allocations: dict[int, int] | None = None,
) -> list[Movement]:
    """Write the guard rows, take the head's lock (last), give the events their positions,
    recorded time and chain links, and insert them. ``rows`` hold each event's values by attribute
    name, but for ``position``, ``recorded_at`` and ``hash``, which this fills in, and
    ``allocation_id``: ``allocations`` maps the offset of each event allocated with others to the
    offset of their first, whose position it takes.

    The recorded time is taken with the head held: ``now``, or the previous event's recorded time if
    this process's clock is behind it, so recorded times never decrease along positions. An event
    dated before the head's ``closed_before`` raises ``ClosedBefore`` (the caller rolls back).

    A single movement on PostgreSQL goes in one round trip: the database takes the head, writes
    the canonical text, hashes it and inserts (``chain.canonical_sql``, held equal to Python's by a
    test). Otherwise the head is advanced first and Python chains the events.
    """
    allocations = allocations or {}
    if connection.vendor == "postgresql" and len(rows) == 1:  # one event is allocated with none
        return [_append_one(rows[0], changed, now)]
    reserved = _write_stock_levels_and_reserve(changed, len(rows), now)
    if reserved.closed_before is not None:
        for offset, row in enumerate(rows):
            if row["occurred_at"] < reserved.closed_before:
                raise ClosedBefore(offset)
    previous_hash = reserved.previous_hash
    for offset, row in enumerate(rows):
        row["position"] = reserved.previous_position + offset + 1
        row["recorded_at"] = reserved.recorded_at
        if offset in allocations:
            row["allocation_id"] = rows[allocations[offset]]["position"]
        previous_hash = row["hash"] = chain.event_link(previous_hash, [row[f] for f in chain.CHAINED_FIELDS])
    return _append(rows)


_GIVEN = [f for f in Movement._meta.concrete_fields if f.attname not in ("position", "hash")]


@functools.cache
def _append_one_sql() -> str:
    """Built once per process: it depends only on the model and the database's types. Its
    parameters are numbered ($1, ...): it is prepared (``_prepared``)."""

    def given(number: int, field) -> str:
        if field.attname == "recorded_at":
            return f"{_latest_sql(f'${number}', 'head.recorded_at')} AS {field.column}"
        return f"${number}::{field.db_type(connection)} AS {field.column}"

    columns = ", ".join(f.column for f in _GIVEN)
    link = f"encode(sha256(convert_to(head.hash || E'\\n' || {chain.canonical_sql(Movement, 'e')}, 'UTF8')), 'hex')"
    return f"""
        WITH head AS (SELECT position, hash, recorded_at, closed_before FROM {_HEAD} WHERE id = 1 FOR UPDATE),
        e AS (SELECT head.position + 1 AS position, {", ".join(given(n, f) for n, f in enumerate(_GIVEN, 1))} FROM head),
        inserted AS (
            INSERT INTO {_MOVEMENT} (position, {columns}, hash)
            SELECT e.position, {", ".join(f"e.{f.column}" for f in _GIVEN)}, {link} FROM e, head
            WHERE head.closed_before IS NULL OR e.occurred_at >= head.closed_before
            RETURNING position, hash, recorded_at
        )
        UPDATE {_HEAD} SET position = inserted.position, hash = inserted.hash, recorded_at = inserted.recorded_at
        FROM inserted WHERE {_HEAD}.id = 1 RETURNING inserted.position, inserted.hash, inserted.recorded_at
    """


class Prepared(NamedTuple):
    """How to run a prepared statement: ``prepare`` (empty once this connection has it) goes first
    in the round trip, ``execute`` wherever the statement belongs; ``ran`` notes it prepared."""

    prepare: list[Statement]
    execute: Statement
    ran: Callable[[], None]


def _prepared(name: str, sql: str, params: list) -> Prepared:
    """Run ``sql`` (parameters numbered $1, ...) as a statement prepared on this connection:
    PostgreSQL then parses and plans it once per connection instead of on every posting (for the
    append, that took longer than running it).

    The first use on a connection prepares it first in the round trip, so that a statement failing
    after it cannot leave it unprepared. A round trip that fails may or may not have prepared it,
    and is not noted: each try prepares under a name of its own (a new number), so no name is
    prepared twice in one session.
    """
    prepared = connection.prepared_statements
    placeholders = ", ".join(["%s"] * len(params))
    if name in prepared:
        return Prepared([], Statement(f"EXECUTE {prepared[name]}({placeholders})", params), lambda: None)
    attempt = connection.next_statement_name(name)
    return Prepared(
        [Statement(f"PREPARE {attempt} AS {sql}", [])], Statement(f"EXECUTE {attempt}({placeholders})", params),
        lambda: prepared.__setitem__(name, attempt),
    )


def _append_one(row: dict, changed: dict[int, GuardUpdate], now: datetime) -> Movement:
    row["recorded_at"] = now
    append = _prepared("ledger_append_one", _append_one_sql(), [row[f.attname] for f in _GIVEN])
    appended = _run([*append.prepare, *_stock_updates(changed), append.execute])
    append.ran()
    if not appended:  # the head's cutoff held it back: dated inside a closed period
        raise ClosedBefore(0)
    [(row["position"], row["hash"], row["recorded_at"])] = appended
    return _stored([row[attribute] for attribute in _ATTRIBUTES])


INSERT_ROWS = 1000  # rows per INSERT: SQLite allows 32,766 parameters a statement
COPY_FROM = 50  # on PostgreSQL, larger appends go by COPY: far less to send and parse than INSERT


def _append(rows: list[dict]) -> list[Movement]:
    """Record the last link on the head and insert the chained movements, given as
    {attribute name: value}; return them as model instances."""
    values = [[row[attribute] for attribute in _ATTRIBUTES] for row in rows]
    seal = Statement(f"UPDATE {_HEAD} SET hash = %s WHERE id = 1", [rows[-1]["hash"]])
    columns = ", ".join(_INSERTED)
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
        _run([seal])
        # The driver's own cursor: Django's error wrapper must be put back around it, so that a
        # retried key is Django's IntegrityError here as on every other path.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {_MOVEMENT} ({columns}) FROM STDIN", io.StringIO(_copy_text(values)))
    else:
        placeholders = "(" + ", ".join(["%s"] * len(_INSERTED)) + ")"
        statements = [seal]
        for start in range(0, len(values), INSERT_ROWS):
            chunk = values[start:start + INSERT_ROWS]
            statements.append(Statement(
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


def lock_head() -> tuple[int, str]:
    """Take the head's lock (as a posting does, last) and return its position and chain link:
    recording a period close holds it, so postings wait for the close to commit and then see it."""
    [(position, hash_)] = _run([Statement(f"UPDATE {_HEAD} SET position = position WHERE id = 1 RETURNING position, hash", [])])
    return position, hash_


def set_closed_before(cutoff: datetime) -> None:
    """Copy the latest close's cutoff onto the head (locked by ``lock_head``); a trigger refuses any
    other value."""
    _run([Statement(f"UPDATE {_HEAD} SET closed_before = %s WHERE id = 1", [connection.ops.adapt_datetimefield_value(cutoff)])])
