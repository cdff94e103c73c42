"""Rebuilding a projection's table without readers ever seeing it half-built.

On PostgreSQL the new rows go into a fresh table with no indexes (the fastest way to load them),
its keys and indexes are built afterwards in bulk, and the fresh table takes the old one's place
and names: all in the caller's transaction, so readers see the old rows until the commit and the
new ones after it, and the old table's index bloat goes with it. Elsewhere (SQLite, one writer at
a time) the rows are deleted and refilled in the same transaction.
"""
from django.db import connection

from .definitions import Projection

BUILD_WORK_MEM = "256MB"  # lets the aggregation of a large ledger stay in memory


def refill(projection: Projection, *, upto: int) -> None:
    params = {"after": 0, "upto": upto}
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"DELETE FROM {projection.table}")
            cursor.execute(projection.insert_sql(projection.table), params)
            return
        table, build = projection.table, f"{projection.table}_build"
        constraints, indexes = _definitions(cursor, table)
        cursor.execute(f"SET LOCAL work_mem = '{BUILD_WORK_MEM}'")
        cursor.execute(f"DROP TABLE IF EXISTS {build}")
        cursor.execute(f"CREATE TABLE {build} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(projection.insert_sql(build), params)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {build} ADD CONSTRAINT {name}_build {definition}")
        for name, definition in indexes:
            cursor.execute(definition.replace(f"INDEX {name} ON", f"INDEX {name}_build ON", 1).replace(
                f" ON public.{table} ", f" ON public.{build} ", 1))
        cursor.execute(f"ANALYZE {build}")
        sequence = _identity_sequence(cursor, table)
        cursor.execute(f"DROP TABLE {table}")
        cursor.execute(f"ALTER TABLE {build} RENAME TO {table}")
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {name}_build TO {name}")
        for name, _ in indexes:
            cursor.execute(f"ALTER INDEX {name}_build RENAME TO {name}")
        if sequence:
            cursor.execute(f"ALTER SEQUENCE {_identity_sequence(cursor, table)} RENAME TO {sequence.split('.')[-1]}")


def _definitions(cursor, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
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
