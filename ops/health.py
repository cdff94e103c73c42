"""Is this process able to serve? Each check says whether it passed and, if not, why.

Readiness needs the database reachable, every migration applied and the ledger's head readable.
Redis is reported but never fails readiness: it is a cache and a broker, and postings go on
without it (projections catch up once it is back).
"""
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from ledger.selectors import ledger_head


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True  # a failing required check makes the process not ready


def _failure(error: Exception) -> str:
    """The error's kind and first line: enough to act on, nothing of a traceback."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}"[:300]


def database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Check("database", True, connection.vendor)
    except DatabaseError as error:
        return Check("database", False, _failure(error))


def migrations() -> Check:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return Check("migrations", False, _failure(error))
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
        return Check("migrations", False, f"{len(pending)} not applied: {names}")
    return Check("migrations", True, "all applied")


def head() -> Check:
    try:
        return Check("ledger_head", True, f"position {ledger_head().position}")
    except Exception as error:  # noqa: BLE001 - any failure to read it is the answer
        return Check("ledger_head", False, _failure(error))


def redis() -> Check:
    if not settings.PRODUCTION:
        return Check("redis", True, "not used (embedded: Celery eager, local cache)", required=False)
    from django_redis import get_redis_connection

    try:
        get_redis_connection("default").ping()
        return Check("redis", True, "answers", required=False)
    except Exception as error:  # noqa: BLE001 - redis-py raises several kinds; any is "down"
        return Check("redis", False, _failure(error), required=False)


def readiness() -> list[Check]:
    checks = [database()]
    if checks[0].ok:
        checks += [migrations(), head()]
    return checks + [redis()]
