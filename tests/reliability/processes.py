"""The real servers the reliability tests start, stop, kill and restart.

Each runs as a subprocess in a process group of its own and logs to a file; ``stop`` sends TERM
to the group and KILL after a timeout, ``kill`` sends KILL at once (a crash). Nothing here imports
Django: the servers are driven from outside, as an operator would.
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PYTHON = sys.executable
SECRET_KEY = "reliability-tests-not-secret"

# Spare ports, away from the shared servers (5432, 6379) and from the usual development ports.
POSTGRES_PORTS = range(25431, 25440)
REDIS_PORTS = range(16371, 16380)
WEB_PORTS = range(18011, 18020)


class HarnessError(RuntimeError):
    """The harness could not set up a process (not a finding about the product)."""


def spare_port(candidates: range) -> int:
    for port in candidates:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
        return port
    raise HarnessError(f"no spare port in {candidates.start}-{candidates.stop - 1}")


def wait_until(condition, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``condition()`` until it returns something truthy; return that, or raise."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def base_env() -> dict[str, str]:
    """The environment every server gets: this one, without anything that picks a database, a
    broker or a mode (the caller adds those)."""
    dropped = ("DATABASE_URL", "CELERY_", "REDIS_URL", "DJANGO_", "WMS_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="wms.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    return env


class Process:
    """One server: started in its own process group, logging to ``log``."""

    started: list["Process"] = []  # every process of the session, for the failure report

    def __init__(self, name: str, args: list[str], *, env: dict, log: Path):
        self.name, self.args, self.env, self.log = name, args, env, log
        self.popen: subprocess.Popen | None = None
        Process.started.append(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def start(self) -> "Process":
        with self.log.open("ab") as out:
            out.write(f"\n===== {time.strftime('%H:%M:%S')} start: {' '.join(self.args)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            code = None if self.popen is None else self.popen.returncode
            raise HarnessError(f"{self.name} is not running (exit code {code}); log {self.log}:\n{tail(self.log)}")

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def kill(self) -> None:
        """KILL the whole group at once: a crash, with no chance to clean up."""
        if self.alive():
            self._signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


# --------------------------------------------------------------------------------------------
# PostgreSQL


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise HarnessError(f"no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/{name})")
    return found[-1]


class PostgresCluster:
    """A cluster of the tests' own: ``initdb`` into a temporary folder, ``pg_ctl`` on a spare port,
    its socket in that folder. Settings for speed (no fsync): it holds nothing worth keeping."""

    DATABASE = "wms"

    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="wms-reliability-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgresql.log"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            shutil.chown(self.dir, "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{self.DATABASE}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if self._as_postgres else list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise HarnessError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}\n{tail(self.log)}")

    def create(self) -> None:
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--no-locale")
        self.start()
        self.execute(f"CREATE DATABASE {self.DATABASE}", dbname="postgres")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", options, "start")

    def restart(self) -> None:
        """``pg_ctl -m fast restart``: every client connection is closed by the server."""
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-m", "fast", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self, dbname: str | None = None):
        """A connection in autocommit mode; the caller closes it."""
        connection = psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname=dbname or self.DATABASE,
                                      connect_timeout=5)
        connection.autocommit = True
        return connection

    def query(self, sql: str, params=None, *, dbname: str | None = None) -> list[tuple]:
        """Run one statement on a connection of its own (so a restart in between breaks nothing)."""
        connection = self.connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def execute(self, sql: str, params=None, *, dbname: str | None = None) -> None:
        self.query(sql, params, dbname=dbname)

    def value(self, sql: str, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None


# --------------------------------------------------------------------------------------------
# Redis


class RedisServer:
    """``redis-server`` without persistence: started again on the same port it is empty, as after
    a restart of a Redis that keeps nothing."""

    def __init__(self, port: int, log: Path):
        self.port = port
        self.url = f"redis://{HOST}:{port}/0"
        self.process = Process(
            "redis", ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
            env=dict(os.environ), log=log,
        )

    def client(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, socket_timeout=5, socket_connect_timeout=2)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        if self.alive():
            return
        if shutil.which("redis-server") is None:
            raise HarnessError("redis-server is not installed")
        self.process.start()
        wait_until(lambda: self.process.check_alive() or self.answers(), timeout=20, what="redis to answer")

    def stop(self) -> None:
        self.process.stop()
        wait_until(lambda: not self.answers(), timeout=10, what="redis to stop answering")

    def alive(self) -> bool:
        return self.process.alive()

    def flushall(self) -> None:
        self.client().flushall()


# --------------------------------------------------------------------------------------------
# gunicorn


DATABASE_ONLY = "database-only"
PRODUCTION = "production"
MODES = (DATABASE_ONLY, PRODUCTION)

ACCESS_LOG_FORMAT = 'access pid=%(p)s "%(r)s" %(s)s %(M)sms'
_ACCESS = re.compile(r'access pid=<?(\d+)>? "(\S+) (\S+) [^"]*" (\d{3})')


class Gunicorn:
    """``gunicorn wms.wsgi`` with three sync workers (JsonErrorsWorker), as the README deploys it. Its access log
    names the worker (pid) that served each request, so a test can tell when every worker has
    served one."""

    WORKERS = 3

    def __init__(self, mode: str, env: dict, port: int, log: Path):
        self.mode, self.port = mode, port
        self.process = Process(
            f"gunicorn ({mode})",
            [PYTHON, "-m", "gunicorn", "wms.wsgi", "--workers", str(self.WORKERS), "--worker-class", "common.gunicorn.JsonErrorsWorker",
             "--bind", f"{HOST}:{port}", "--timeout", "60", "--graceful-timeout", "5",
             "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
             # Not the shared default socket in ~/.gunicorn, which every other gunicorn uses too.
             "--no-control-socket"],
            env=env, log=log,
        )

    def start(self, ready) -> None:
        self.process.start()
        wait_until(lambda: self.process.check_alive() or self._booted() >= self.WORKERS, timeout=60,
                   what=f"{self.process.name}: {self.WORKERS} workers to boot")
        wait_until(lambda: self.process.check_alive() or ready(), timeout=60, interval=0.2,
                   what=f"{self.process.name} to answer")

    def _booted(self) -> int:
        return self.process.log_text().count("Booting worker with pid")

    def stop(self) -> None:
        self.process.stop()

    def served(self, marker: str, *, since: int = 0) -> list[tuple[int, str, int]]:
        """(worker pid, path, status) of each request whose path contains ``marker``."""
        found = []
        for match in _ACCESS.finditer(self.process.log_since(since)):
            pid, _method, path, status = match.groups()
            if marker in path:
                found.append((int(pid), path, int(status)))
        return found

    def workers(self, marker: str) -> set[int]:
        return {pid for pid, _, _ in self.served(marker)}


# --------------------------------------------------------------------------------------------
# Celery


class CeleryWorker:
    """``celery -A wms worker --pool solo``: one process, which a test may kill mid-task."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.process: Process | None = None
        self.generation = 0

    def start(self, *, wait: bool = True) -> None:
        """Start a worker; with ``wait``, return once it is ready to take tasks."""
        self.generation += 1
        self.process = Process(
            f"celery worker #{self.generation}",
            [PYTHON, "-m", "celery", "-A", "wms", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--hostname", f"reliability{self.generation}@%h"],
            env=self.env, log=self.log,
        )
        offset = self.process.log_size()
        self.process.start()
        if wait:
            wait_until(lambda: self.process.check_alive() or " ready." in self.process.log_since(offset),
                       timeout=60, what="the celery worker to be ready")

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()


class CeleryBeat:
    """``celery -A wms beat`` with its schedule file in the test's folder (catch-up every 10 s)."""

    def __init__(self, env: dict, log: Path, schedule: Path):
        self.process = Process(
            "celery beat",
            [PYTHON, "-m", "celery", "-A", "wms", "beat", "--loglevel", "INFO", "--schedule", str(schedule)],
            env=env, log=log,
        )

    def start(self) -> None:
        self.process.start()
        wait_until(lambda: self.process.check_alive() or "beat: Starting" in self.process.log_text(),
                   timeout=60, what="celery beat to start")

    def stop(self) -> None:
        self.process.stop()
