import pytest
from django.db import connection

pytest_plugins = ["tests.fixtures"]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need its locks, triggers and real concurrency: skip them elsewhere."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
