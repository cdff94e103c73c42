"""Who changed master data, and through what: the context written onto each history event.

``recording(describe)`` attaches ``describe()`` (a dict: the user, the request's method, path and
id, or the command) to every change of a tracked table made on this thread's connection while it
is open. ``describe`` is called when a change is made, so a user known only inside the view (DRF
authenticates there, after the middleware) is the one recorded. The database's triggers read it:

- PostgreSQL: just before a statement that changes a tracked table (and only then: the posting
  path runs as before), in one transaction with it, pghistory's own settings ``pghistory.context_id``
  and ``pghistory.context_metadata`` are set local to the transaction (``set_config(..., true)``),
  which its triggers read, and emptied right after it.
- SQLite has no session variables. The application's connections overload the built-in
  ``sqlite_source_id()`` (which nothing here uses) to answer the current context as JSON, and the
  triggers ``history.sqlite`` makes read it there: each connection answers for itself, in the
  statement itself, with no extra statement and no race between connections. Any other connection
  (the ``sqlite3`` shell) answers SQLite's own source id, which is not JSON: its changes are
  recorded with no context.

A change made outside ``recording`` (raw SQL in ``psql``, a script) is recorded with no context.
"""
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

SQLITE_CONTEXT_FUNCTION = "sqlite_source_id"
_POSTGRES_SET = "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)"

_current: ContextVar[tuple[uuid.UUID, Callable[[], dict]] | None] = ContextVar("history_context", default=None)
_tracked_statement: re.Pattern | None = None
_HEAD = 200


def _metadata(describe: Callable[[], dict]) -> str:
    return json.dumps(describe(), cls=DjangoJSONEncoder)


@contextmanager
def recording(describe: Callable[[], dict]) -> Iterator[None]:
    """Record ``describe()`` as the context of every tracked change made meanwhile. Nested, the
    innermost is the one recorded (a request served by ``manage.py runserver`` is the request's)."""
    outer = _current.get()
    token = _current.set((uuid.uuid4(), describe))
    try:
        with connection.execute_wrapper(_set_before_tracked_statements) if outer is None else nullcontext():
            yield
    finally:
        _current.reset(token)


def _names_tracked_table(sql: str) -> bool:
    """Whether a statement may change a tracked table: an INSERT, UPDATE or DELETE whose target
    (named first, as the ORM writes them) is one, or a WITH statement naming one anywhere. Only
    the head is read: a batch posting's statement runs to megabytes, and a scan of it would cost
    milliseconds on every posting."""
    global _tracked_statement
    if _tracked_statement is None:
        from .models import EVENT_MODELS

        tables = sorted({model.pgh_tracked_model._meta.db_table for model in EVENT_MODELS})
        _tracked_statement = re.compile(r"\b(?:" + "|".join(map(re.escape, tables)) + r")\b")
    head = sql[:_HEAD].lstrip().lower()
    if head.startswith(("insert", "update", "delete")):
        return _tracked_statement.search(head) is not None
    return head.startswith("with") and _tracked_statement.search(sql.lower()) is not None


def _set_before_tracked_statements(execute, sql, params, many, context):
    current = _current.get()
    if (
        current is None or context["connection"].vendor != "postgresql"
        or not isinstance(sql, str) or not _names_tracked_table(sql)
    ):
        return execute(sql, params, many, context)
    context_id, describe = current
    with transaction.atomic(using=context["connection"].alias):
        own = context["connection"].connection.cursor()  # the driver's, beside the statement's
        try:
            own.execute(_POSTGRES_SET, (str(context_id), _metadata(describe)))
            result = execute(sql, params, many, context)
            own.execute(_POSTGRES_SET, ("", ""))  # what follows in the transaction is not this context's
            return result
        finally:
            own.close()


def sqlite_context() -> str | None:
    """What the application's SQLite connections answer for ``sqlite_source_id()``: the current
    context as JSON (its id as Django stores a UUID there), or NULL outside ``recording``."""
    current = _current.get()
    if current is None:
        return None
    context_id, describe = current
    return json.dumps({"id": context_id.hex, "metadata": json.loads(_metadata(describe))})


def sqlite_connection_created(connection, **_signal_kwargs) -> None:
    """``connection_created``: the connection answers the context to the triggers."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_CONTEXT_FUNCTION, 0, sqlite_context)


@contextmanager
def command_recorded(argv: list[str]) -> Iterator[None]:
    """``manage.py``: a command's changes carry its name (only the name: arguments may hold secrets)."""
    with recording(lambda: {"command": argv[1] if len(argv) > 1 else None}):
        yield
