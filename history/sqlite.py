"""SQLite's history triggers, made from the same event models as PostgreSQL's.

django-pgtrigger installs triggers on PostgreSQL only. SQLite (the embedded default) gets the same
recording from here: for each event model, one trigger per tracker (insert, update when a tracked
field changed, delete) copying the same columns into the same table, with the context that
``history.context`` answers; and two triggers refusing any update or
delete of an event. They are made from the models after every ``migrate`` (``install``), so a field
added to a tracked model is recorded on both databases from its migration on.

What SQLite records: every change made through any connection, the application's with its
context. What it does not: anything PostgreSQL's role and trigger privileges would stop (whoever
can open the file can drop the triggers); the context of a change made outside the application.
"""
from django.db import models

from .context import SQLITE_CONTEXT_FUNCTION
from .models import REFUSAL

# Now, as Django writes a time on SQLite (microseconds: times compare as text there).
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
# The context as the application's connections answer it (history.context); SQLite's own answer
# on any other connection is not JSON, and the event has no context.
_CONTEXT = (
    f"(SELECT CASE WHEN json_valid(c) THEN json_extract(c, '{{path}}') END FROM (SELECT {SQLITE_CONTEXT_FUNCTION}() AS c))"
)


def _copied_columns(event_model) -> list[str]:
    """The tracked model's columns that the event model copies (as pghistory's trigger does)."""
    tracked = {f.name for f in event_model.pgh_tracked_model._meta.fields}
    return [
        f.column for f in event_model._meta.fields
        if f.concrete and not isinstance(f, models.AutoField) and f.name in tracked
    ]


def _recording(event_model, tracker) -> tuple[str, str]:
    table = event_model.pgh_tracked_model._meta.db_table
    operation = str(tracker.operation).strip().upper()
    row = tracker.row
    columns = _copied_columns(event_model)
    values = {column: f'{row}."{column}"' for column in columns}
    values["pgh_created_at"] = SQLITE_NOW
    values["pgh_label"] = f"'{tracker.label}'"
    values["pgh_context"] = _CONTEXT.format(path="$.metadata")
    values["pgh_context_id"] = _CONTEXT.format(path="$.id")
    if hasattr(event_model, "pgh_obj"):
        values["pgh_obj_id"] = f'{row}."{event_model.pgh_tracked_model._meta.pk.column}"'
    when = ""
    if tracker.condition is not None:
        condition = tracker.condition
        if operation != "UPDATE" or condition.all or condition._negated or condition.comparison != "df":
            raise NotImplementedError(f"{event_model.__name__}: no SQLite form for the condition of {tracker.label!r}")
        fields = [event_model.pgh_tracked_model._meta.get_field(name).column for name in condition.fields]
        when = " WHEN " + " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in fields)
    name = f"{event_model._meta.db_table}_{tracker.label}"
    cols = ", ".join(f'"{c}"' for c in values)
    return name, (
        f'CREATE TRIGGER "{name}" AFTER {operation} ON "{table}"{when} BEGIN '
        f'INSERT INTO "{event_model._meta.db_table}" ({cols}) VALUES ({", ".join(values.values())}); END'
    )


def _refusing(event_model) -> list[tuple[str, str]]:
    table = event_model._meta.db_table
    return [
        (f"{table}_append_only_{op.lower()}",
         f'CREATE TRIGGER "{table}_append_only_{op.lower()}" BEFORE {op} ON "{table}" '
         f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")
        for op in ("UPDATE", "DELETE")
    ]


def triggers() -> list[tuple[str, str]]:
    """(name, CREATE statement) of every SQLite history trigger."""
    from .models import EVENT_MODELS

    found = []
    for event_model in EVENT_MODELS:
        found += [_recording(event_model, tracker) for tracker in event_model.pgh_trackers]
        found += _refusing(event_model)
    return found


def drop_statements() -> list[str]:
    return [f'DROP TRIGGER IF EXISTS "{name}"' for name, _ in triggers()]


def create_statements() -> list[str]:
    return [*drop_statements(), *(create for _, create in triggers())]


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in create_statements():
            cursor.execute(statement)


def install_on_migrate(using, **_signal_kwargs) -> None:
    from django.db import connections

    if connections[using].vendor == "sqlite":
        install(connections[using])
