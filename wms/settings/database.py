from pathlib import Path

import dj_database_url

from .env import BASE_DIR, DATABASE_URL, env_str

SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"


def _sqlite(database: dict) -> dict:
    """SQLite as the ledger needs it, whether it is the embedded default or given by URL."""
    if database["NAME"] != ":memory:":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    database.setdefault("OPTIONS", {}).update({
        # Writers take the lock at BEGIN, so two postings queue instead of failing half-way with
        # "database is locked"; WAL lets readers go on meanwhile. synchronous=FULL: a posting
        # answered 201 is on disk, even through a power loss (NORMAL could lose the last commits).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    })
    database.setdefault("TEST", {}).setdefault("NAME", env_str("WMS_SQLITE_TEST_PATH", "") or None)
    return database


def _postgresql(database: dict) -> dict:
    # Our backend: Django's, with a health check of kept connections that costs no round trip, so
    # the first request after a server restart reconnects instead of failing.
    database["ENGINE"] = "common.backends.postgresql"
    database["CONN_HEALTH_CHECKS"] = True
    # A forgotten open transaction must not hold locks (and readers) forever.
    database.setdefault("OPTIONS", {}).setdefault(
        "options", "-c idle_in_transaction_session_timeout=60000 -c lock_timeout=10000"
    )
    return database


if DATABASE_URL:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=600)
    if _database["ENGINE"] == POSTGRESQL:
        _database = _postgresql(_database)
    elif _database["ENGINE"] == SQLITE:
        _database = _sqlite(_database)
else:
    _database = _sqlite({"ENGINE": SQLITE, "NAME": env_str("WMS_SQLITE_PATH", str(BASE_DIR / "var" / "wms.sqlite3"))})

DATABASES = {"default": _database}
