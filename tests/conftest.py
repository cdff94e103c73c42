from unittest import mock

import pytest
from django.db import connection

pytest_plugins = ["tests.fixtures", "tests.celery_worker"]

# SQLite's triggers that refuse a change to an append-only table (the ledger's, the anchors', ...),
# and the master-data history's that would record the flush itself (history/sqlite.py).
_REFUSING_TRIGGERS = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND (sql LIKE '%RAISE(ABORT%' OR name LIKE 'history\\_%' ESCAPE '\\')"
)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need its locks, triggers and real concurrency: skip them elsewhere."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _let_test_flush_empty_the_ledger():
    """Transactional tests end by emptying every table, which the append-only tables' triggers
    refuse by design. Let only that test-teardown flush through; everything else still meets the
    triggers (on SQLite they are dropped for the flush and made again from their own SQL)."""
    original = type(connection.ops).execute_sql_flush

    def flush(ops, sql_list):
        with ops.connection.cursor() as cursor:
            if ops.connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = replica")
                try:
                    return original(ops, sql_list)
                finally:
                    with ops.connection.cursor() as reset:
                        reset.execute("RESET session_replication_role")
            cursor.execute(_REFUSING_TRIGGERS)
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            try:
                return original(ops, sql_list)
            finally:
                with ops.connection.cursor() as recreate:
                    for _, sql in triggers:
                        recreate.execute(sql)

    with mock.patch.object(type(connection.ops), "execute_sql_flush", flush):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test users need no costly hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """The local cache outlives a test (it holds the "catch-up queued" flag): start each empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
