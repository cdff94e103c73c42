import importlib
from unittest import mock

import pytest
from django.db import connection

pytest_plugins = ["tests.fixtures"]

_append_only = importlib.import_module("ledger.migrations.0002_head_and_append_only")


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
    """Transactional tests end by emptying every table, which the ledger's triggers refuse by
    design. Let only that test-teardown flush through; everything else still meets the triggers."""
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
            for statement in _append_only.SQLITE_DROP:
                cursor.execute(statement)
            try:
                return original(ops, sql_list)
            finally:
                with ops.connection.cursor() as recreate:
                    for statement in _append_only.SQLITE_CREATE:
                        recreate.execute(statement)

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
