"""Fixtures for the reliability suite: real servers, driven from outside.

Nothing of Django is set up in the pytest process for these tests: they talk HTTP to gunicorn,
SQL (psycopg2) to a PostgreSQL of their own, and run ``manage.py`` and ``celery`` as subprocesses.

- Per session: a PostgreSQL cluster (``initdb`` into a temporary folder, ``pg_ctl`` on a spare
  port), migrated once, with the demo users and catalog of ``seed_demo``; and a Redis on a spare
  port. A test may restart the one and stop the other; before each test both are up again, and
  Redis is empty (no queued task or cached counter of an earlier test).
- Per test: ``web(mode)`` starts gunicorn with three sync workers, in one of the two ways to run
  that use PostgreSQL: ``database-only`` (``DATABASE_URL`` alone: Celery tasks run in the web
  process) or ``production`` (with ``CELERY_BROKER_URL``: a real worker builds the projections,
  Redis is the cache). ``celery`` starts a worker (``--pool solo``, which a test may kill) and beat.

Every process logs to a file in the session's folder; when a test fails, the last lines of each
log written during it are attached to its report. Measured figures are printed at the end.
"""
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .client import Api, manage, shell
from .processes import (
    DATABASE_ONLY,
    MODES,
    POSTGRES_PORTS,
    PRODUCTION,
    REDIS_PORTS,
    WEB_PORTS,
    CeleryBeat,
    CeleryWorker,
    Gunicorn,
    PostgresCluster,
    Process,
    RedisServer,
    base_env,
    spare_port,
)

_LOG_SIZES = pytest.StashKey[dict]()
_FIGURES: list[tuple[str, str]] = []
_EXTRA_LOGS: list[tuple[str, Path]] = []


@dataclass(frozen=True)
class User:
    id: int
    username: str
    token: str


@dataclass
class Stack:
    """The session's PostgreSQL and Redis, and the ways to reach them."""

    postgres: PostgresCluster
    redis: RedisServer
    work: Path
    tokens: dict[str, str] = field(default_factory=dict)  # demo username: API token

    def env(self, mode: str) -> dict[str, str]:
        env = {**base_env(), "DATABASE_URL": self.postgres.url}
        if mode == PRODUCTION:
            env["CELERY_BROKER_URL"] = self.redis.url
        return env

    def manage(self, *args: str, mode: str = DATABASE_ONLY, check: bool = True, timeout: float = 300):
        return manage(*args, env=self.env(mode), check=check, timeout=timeout)

    def shell(self, code: str, *, mode: str = DATABASE_ONLY, timeout: float = 300) -> str:
        return shell(code, env=self.env(mode), timeout=timeout)

    def verify_projections(self):
        """``manage.py verify_projections``: exit 0 if every projection equals a fresh replay."""
        return self.manage("verify_projections", check=False)

    def verify_ledger(self):
        return self.manage("verify_ledger", check=False)

    def new_user(self, role: str) -> User:
        """A user in group ``role`` with an API token, straight in the database (nothing in any
        process has seen it yet)."""
        username = f"{role}-{uuid.uuid4().hex[:10]}"
        token = secrets.token_hex(20)
        user_id = self.postgres.value(
            """
            WITH u AS (
                INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                                       is_staff, is_active, date_joined)
                VALUES ('!', false, %(username)s, '', '', '', false, true, now()) RETURNING id
            ), g AS (
                INSERT INTO auth_user_groups (user_id, group_id)
                SELECT u.id, auth_group.id FROM u, auth_group WHERE auth_group.name = %(role)s
            ), t AS (
                INSERT INTO authtoken_token (key, user_id, created) SELECT %(token)s, u.id, now() FROM u
            )
            SELECT id FROM u
            """,
            {"username": username, "role": role, "token": token},
        )
        return User(user_id, username, token)

    def head(self) -> int:
        return self.postgres.value("SELECT position FROM ledger_ledgerhead WHERE id = 1")

    def checkpoints(self) -> dict[str, tuple[int, int]]:
        """Each projection's (position, events applied)."""
        rows = self.postgres.query("SELECT name, position, events_applied FROM projections_checkpoint ORDER BY name")
        return {name: (position, applied) for name, position, applied in rows}


@dataclass
class Server:
    """A running gunicorn, the client that talks to it, and the demo tokens."""

    mode: str
    gunicorn: Gunicorn
    api: Api
    stack: Stack

    @property
    def manager(self) -> str:
        return self.stack.tokens["manager"]

    def new_catalog(self, locations: int = 2) -> dict:
        """A product and locations of this test's own, created through the API as the manager."""
        tag = uuid.uuid4().hex[:8].upper()
        warehouse = self.api.create("/api/v1/warehouses/", {"code": f"W{tag}", "name": f"Reliability {tag}"},
                                    token=self.manager)
        bins = [
            self.api.create("/api/v1/locations/", {"warehouse": warehouse["id"], "code": f"B-{n:02d}"},
                            token=self.manager)["id"]
            for n in range(1, locations + 1)
        ]
        product = self.api.create("/api/v1/products/", {"sku": f"REL-{tag}", "name": f"Reliability item {tag}",
                                                        "unit": "ea"}, token=self.manager)["id"]
        return {"product": product, "locations": bins}

    def warm(self, marker: str, send, *, at_most: int = 60) -> list:
        """Call ``send(marker)`` (one request, new connection) until every worker has served one
        carrying ``marker``; return the replies."""
        replies = []
        while len(self.gunicorn.workers(marker)) < Gunicorn.WORKERS:
            if len(replies) >= at_most:
                raise AssertionError(f"after {at_most} requests only workers {self.gunicorn.workers(marker)} served "
                                     f"{marker!r}: cannot reach all {Gunicorn.WORKERS}")
            replies.append(send(marker))
            time.sleep(0.02)  # the access log line is written just after the reply
        return replies


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reliability")


@pytest.fixture(scope="session")
def stack(work):
    """A PostgreSQL cluster, migrated, with the demo users and catalog; and a Redis. Torn down
    (stopped and removed) at the end of the session."""
    postgres = PostgresCluster(spare_port(POSTGRES_PORTS))
    _EXTRA_LOGS.append(("postgresql", postgres.log))
    redis = RedisServer(spare_port(REDIS_PORTS), work / "redis.log")
    try:
        postgres.create()
        redis.start()
        stack = Stack(postgres, redis, work)
        started = time.monotonic()
        stack.manage("migrate", "--no-input")
        # In the database-only environment: seed_demo refuses production mode, and its first
        # movements are projected in-process.
        stack.manage("seed_demo")
        figure("session", f"cluster at :{postgres.port} migrated and seeded in {time.monotonic() - started:.1f} s; "
                          f"logs in {work}")
        stack.tokens = dict(postgres.query(
            "SELECT u.username, t.key FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id"))
        yield stack
    finally:
        redis.process.stop()
        postgres.remove()


@pytest.fixture(autouse=True)
def _stack_up_and_redis_empty(stack):
    """Whatever an earlier test stopped is running again, and Redis starts empty."""
    if not stack.redis.alive():
        stack.redis.start()
    stack.redis.flushall()
    try:
        stack.postgres.value("SELECT 1")
    except Exception:  # noqa: BLE001 - stopped by an earlier test: start it again
        stack.postgres.start()
    yield


@pytest.fixture
def web(stack, work, request):
    """``web(mode)``: gunicorn with three sync workers in ``mode``, ready to answer; stopped after
    the test."""
    started: list[Gunicorn] = []

    def start(mode: str) -> Server:
        assert mode in MODES
        port = spare_port(WEB_PORTS)
        name = f"{request.node.name}-{mode}-{len(started)}".replace("/", "_")
        gunicorn = Gunicorn(mode, stack.env(mode), port, work / f"gunicorn-{name}.log")
        started.append(gunicorn)
        api = Api(port, label=f"{mode[:4]}{len(started)}")

        def ready() -> bool:
            try:
                return api.get("/api/v1/stock/status/", token=stack.tokens["manager"]).status == 200
            except OSError:
                return False

        gunicorn.start(ready)
        return Server(mode, gunicorn, api, stack)

    yield start
    for gunicorn in started:
        gunicorn.stop()


@dataclass
class Celery:
    worker: CeleryWorker
    beat: CeleryBeat

    def start(self, *, worker: bool = True, beat: bool = True) -> "Celery":
        if worker:
            self.worker.start()
        if beat:
            self.beat.start()
        return self


@pytest.fixture
def celery(stack, work, request):
    """A Celery worker and beat in production mode (not started: ``celery.start()``); the test may
    ``celery.worker.kill()`` and ``celery.worker.start()`` again. Stopped after the test."""
    env = stack.env(PRODUCTION)
    name = request.node.name.replace("/", "_")
    processes = Celery(
        CeleryWorker(env, work / f"celery-worker-{name}.log"),
        CeleryBeat(env, work / f"celery-beat-{name}.log", work / f"celerybeat-schedule-{name}"),
    )
    yield processes
    processes.worker.stop()
    processes.beat.stop()


def figure(test: str, line: str) -> None:
    """Keep a measured figure for the summary at the end (and print it with the test's output)."""
    print(f"[{test}] {line}")
    _FIGURES.append((test, line))


@pytest.fixture
def record(request):
    """``record("...")``: a measured figure, shown in the summary at the end of the run."""
    return lambda line: figure(request.node.name, line)


def _logs() -> dict[Path, str]:
    logs = {process.log: process.name for process in Process.started}
    logs.update({path: name for name, path in _EXTRA_LOGS})
    return logs


def pytest_runtest_setup(item):
    item.stash[_LOG_SIZES] = {path: path.stat().st_size for path in _logs() if path.exists()}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the last lines each log gained during the test (access log left out)."""
    report = yield
    if report.failed and call.when in ("setup", "call"):
        sizes = item.stash.get(_LOG_SIZES, {})
        for path, name in _logs().items():
            if not path.exists() or path.stat().st_size <= sizes.get(path, 0):
                continue
            with path.open("rb") as log:
                log.seek(sizes.get(path, 0))
                lines = log.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if not line.startswith("access pid=")][-80:]
            report.sections.append((f"{name}: last lines written to {path} during the test", "\n".join(kept)))
    return report


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("reliability: measured figures")
        for test, line in _FIGURES:
            terminalreporter.write_line(f"{test}: {line}")

