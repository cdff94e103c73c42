"""Rebuilding a projection's table without readers ever seeing it half-built.

On PostgreSQL the new rows go into a fresh table with no indexes (the fastest way to load them),
its keys and indexes are built afterwards in bulk, and the fresh table takes the old one's place
and names: all in the caller's transaction, so readers see the old rows until the commit and the
new ones after it, and the old table's index bloat goes with it. Elsewhere (SQLite, one writer at
a time) the rows are deleted and refilled in the same transaction.

Rebuilding them all, PostgreSQL reads the ledger once for all of them (``refill_all``).
"""
from collections.abc import Sequence

from django.db import connection

from .definitions import TOTALS_SQL, Projection

BUILD_WORK_MEM = "256MB"  # lets the aggregation of a large ledger stay in memory
# The reversals' look-ups (one per reversal, at run time) make the planner's cost of a whole-ledger
# read look huge, so PostgreSQL would compile the plan (JIT) with every optimisation: 0.6 s of a
# 1,000,000-event rebuild's 3 s, for a plan that runs once. A rebuild runs without it.
BUILD_SETTINGS = (f"SET LOCAL work_mem = '{BUILD_WORK_MEM}'", "SET LOCAL jit = off")
TOTALS = "projection_rebuild_totals"
Definitions = tuple[list[tuple[str, str]], list[tuple[str, str]]]  # (constraints, indexes), each (name, SQL)


def refill(projection: Projection, *, upto: int) -> None:
    """Refill one projection from the ledger's first ``upto`` positions."""
    params = {"after": 0, "upto": upto}
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"DELETE FROM {projection.table}")
            cursor.execute(projection.insert_sql(projection.table), params)
            return
        for setting in BUILD_SETTINGS:
            cursor.execute(setting)
        _swap_in(cursor, projection, _build(cursor, projection, projection.select_sql(), params))


def refill_all(projections: Sequence[Projection], *, upto: int) -> None:
    """Refill every projection from one read of the ledger (PostgreSQL): its totals per product,
    location and lot go into a temporary table, each projection's fresh table sums its rows from
    there, and the fresh tables are swapped in last, so readers wait only for the renames."""
    with connection.cursor() as cursor:
        for setting in BUILD_SETTINGS:
            cursor.execute(setting)
        cursor.execute(f"CREATE TEMPORARY TABLE {TOTALS} ON COMMIT DROP AS {TOTALS_SQL}", {"after": 0, "upto": upto})
        built = [(projection, _build(cursor, projection, projection.rollup_sql(TOTALS), {})) for projection in projections]
        for projection, definitions in built:
            _swap_in(cursor, projection, definitions)
        cursor.execute(f"DROP TABLE {TOTALS}")  # now, not at the commit: the caller's transaction may rebuild again


def _build(cursor, projection: Projection, select_sql: str, params: dict) -> Definitions:
    """A fresh table of the projection's shape (``<table>_build``) filled from ``select_sql``, with
    the table's keys and indexes built after the rows; returns the table's definitions."""
    table, build = projection.table, f"{projection.table}_build"
    constraints, indexes = _definitions(cursor, table)
    cursor.execute(f"DROP TABLE IF EXISTS {build}")
    cursor.execute(f"CREATE TABLE {build} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    cursor.execute(f"INSERT INTO {build} ({', '.join(projection.keys + projection.values)}) {select_sql}", params)
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {build} ADD CONSTRAINT {name}_build {definition}")
    for name, definition in indexes:
        cursor.execute(definition.replace(f"INDEX {name} ON", f"INDEX {name}_build ON", 1).replace(
            f" ON public.{table} ", f" ON public.{build} ", 1))
    cursor.execute(f"ANALYZE {build}")
    return constraints, indexes


def _swap_in(cursor, projection: Projection, definitions: Definitions) -> None:
    """The fresh table takes the old one's place and names (its keys', indexes' and sequence's)."""
    table, build = projection.table, f"{projection.table}_build"
    constraints, indexes = definitions
    sequence = _identity_sequence(cursor, table)
    cursor.execute(f"DROP TABLE {table}")
    cursor.execute(f"ALTER TABLE {build} RENAME TO {table}")
    for name, _ in constraints:
        cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {name}_build TO {name}")
    for name, _ in indexes:
        cursor.execute(f"ALTER INDEX {name}_build RENAME TO {name}")
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {_identity_sequence(cursor, table)} RENAME TO {sequence.split('.')[-1]}")


def _definitions(cursor, table: str) -> Definitions:
    """The table's constraints (primary key, unique, check) and its other indexes, as SQL."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c') ORDER BY contype DESC, conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
        [table],
    )
    return constraints, cursor.fetchall()


def _identity_sequence(cursor, table: str) -> str | None:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]
