"""The PostgreSQL server the benchmark runs on, and the throwaway database it makes there.

``DATABASE_URL`` names the server (default: the local one); only its host, port and user are
used. The benchmark works in a database of its own, ``wms_bench_<pid>``, created empty and
dropped at the end, so it never touches the project's ``wms`` or the test suite's databases.
"""
import ipaddress
import os
from contextlib import contextmanager
from dataclasses import dataclass

import dj_database_url
import psycopg2

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
MAINTENANCE_DB = "postgres"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_env(cls) -> "Server":
        parsed = dj_database_url.parse(os.environ.get("DATABASE_URL") or DEFAULT_URL)
        if parsed["ENGINE"] != "django.db.backends.postgresql":
            raise SystemExit("bench: DATABASE_URL must name a PostgreSQL server")
        server = cls(parsed["HOST"] or "127.0.0.1", int(parsed["PORT"] or 5432), parsed["USER"],
                     parsed["PASSWORD"] or "")
        if not _is_loopback(server.host):
            raise SystemExit(f"bench: loads only a server on this machine (127.0.0.1), not {server.host}")
        return server

    def url(self, dbname: str) -> str:
        password = f":{self.password}" if self.password else ""
        return f"postgres://{self.user}{password}@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname: str, *, autocommit: bool = True):
        connection = psycopg2.connect(
            dbname=dbname, user=self.user, password=self.password, host=self.host, port=self.port, connect_timeout=10
        )
        connection.autocommit = autocommit
        return connection


@contextmanager
def throwaway_database(server: Server, *, keep: bool = False, name: str | None = None):
    """Create an empty database (``name``, by default this run's); drop it afterwards (even on
    failure) unless ``keep``. The live tests make theirs with it too."""
    name = name or f"wms_bench_{os.getpid()}"
    admin = server.connect(MAINTENANCE_DB)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            if keep:
                print(f"bench: kept database {name} ({server.url(name)})")
            else:
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


SETTINGS_SHOWN = (
    "server_version", "shared_buffers", "work_mem", "effective_cache_size", "max_wal_size",
    "synchronous_commit", "fsync", "max_connections",
)


def server_settings(connection) -> dict[str, str]:
    with connection.cursor() as cursor:
        settings = {}
        for name in SETTINGS_SHOWN:
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    return settings


def scalar(connection, sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]
