"""Database triggers, written per database, for migrations: those that move a generation counter
when a table changes, those that keep a table append-only, and a way to run any statements that
differ by database.

PostgreSQL: one statement-level trigger per table (one bump per statement, whatever its size).
SQLite has row-level triggers only: one per event.
"""
from django.db import migrations
POSTGRES_FUNCTION = """
CREATE FUNCTION common_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE common_generation SET value = value + 1 WHERE name = TG_ARGV[0];
    RETURN NULL;
END
$$;
"""
POSTGRES_DROP_FUNCTION = "DROP FUNCTION common_bump_generation();"


def _name(table: str, generation: str, event: str = "") -> str:
    return f"{table}_bumps_{generation}{'_' + event if event else ''}"


def create(vendor: str, table: str, generation: str, *, update_of: tuple[str, ...] = ()) -> list[str]:
    """Statements that make any INSERT, DELETE (TRUNCATE) or UPDATE (of ``update_of`` only, if
    given) on ``table`` move ``generation`` on."""
    update = f"UPDATE OF {', '.join(update_of)}" if update_of else "UPDATE"
    if vendor == "postgresql":
        return [
            f"CREATE TRIGGER {_name(table, generation)} AFTER INSERT OR {update} OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION common_bump_generation('{generation}')"
        ]
    bump = f"UPDATE common_generation SET value = value + 1 WHERE name = '{generation}'"
    return [
        f"CREATE TRIGGER {_name(table, generation, event.split()[0].lower())} AFTER {event} ON {table} BEGIN {bump}; END"
        for event in ("INSERT", update, "DELETE")
    ]


def drop(vendor: str, table: str, generation: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER {_name(table, generation)} ON {table}"]
    return [f"DROP TRIGGER {_name(table, generation, event)}" for event in ("insert", "update", "delete")]


def by_vendor(create: dict[str, list[str]], drop: dict[str, list[str]]) -> migrations.RunPython:
    """A migration operation running the statements written for the database in use (by vendor:
    "postgresql", "sqlite"), and their reverse."""

    def run(statements: dict[str, list[str]]):
        def operation(apps, schema_editor):
            for statement in statements.get(schema_editor.connection.vendor, []):
                schema_editor.execute(statement, params=None)
        return operation

    return migrations.RunPython(run(create), run(drop))


def generation_triggers(generation: str, tables: dict[str, tuple[str, ...]]) -> migrations.RunPython:
    """Triggers moving ``generation`` on any change to ``tables`` (name: the columns whose update
    counts; empty for all), as a migration operation."""
    return by_vendor(
        create={vendor: [s for t, cols in tables.items() for s in create(vendor, t, generation, update_of=cols)] for vendor in ("postgresql", "sqlite")},
        drop={vendor: [s for t in tables for s in drop(vendor, t, generation)] for vendor in ("postgresql", "sqlite")},
    )


def append_only(table: str, *, instead: str = "") -> migrations.RunPython:
    """Triggers refusing UPDATE and DELETE on ``table``, whoever asks (and TRUNCATE on PostgreSQL;
    SQLite has none), as a migration operation. The refusal names the table and the operation, then
    ``instead``: what to do instead."""
    function = f"{table}_refuse_change"
    hint = f"; {instead}".replace("'", "''") if instead else ""
    return by_vendor(
        create={
            "postgresql": [
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION '{table} is append-only: % refused{hint}', TG_OP USING ERRCODE = 'insufficient_privilege'; "
                f"END $$",
                f"CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ],
            "sqlite": [
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused{hint}'); END"
                for event in ("UPDATE", "DELETE")
            ],
        },
        drop={
            "postgresql": [
                f"DROP TRIGGER {table}_no_truncate ON {table}", f"DROP TRIGGER {table}_no_update_or_delete ON {table}",
                f"DROP FUNCTION {function}()",
            ],
            "sqlite": [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"],
        },
    )
