"""SQL for the triggers that move a generation counter when a table changes (for migrations).

PostgreSQL: one statement-level trigger per table (one bump per statement, whatever its size).
SQLite has row-level triggers only: one per event.
"""
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
