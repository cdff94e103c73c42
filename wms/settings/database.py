from pathlib import Path

import dj_database_url

from .env import BASE_DIR, DATABASE_URL, env_str

_sqlite_path = env_str("WMS_SQLITE_PATH", str(BASE_DIR / "var" / "wms.sqlite3"))

if DATABASE_URL:
    # Persistent connections, without a health-check query at the start of every request (a round
    # trip per posting); a connection broken by a server restart is dropped after its request.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A forgotten open transaction must not hold locks (and readers) forever.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "options", "-c idle_in_transaction_session_timeout=60000 -c lock_timeout=10000"
        )
else:
    Path(_sqlite_path).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite_path,
            "OPTIONS": {
                # Writers take the lock at BEGIN, so two postings queue instead of failing
                # half-way with "database is locked"; WAL lets readers go on meanwhile.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
            "TEST": {"NAME": env_str("WMS_SQLITE_TEST_PATH", "") or None},
        }
    }
