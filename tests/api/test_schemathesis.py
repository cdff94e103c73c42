"""A bounded schemathesis run against a live server, for every role: whatever the schema allows or
forbids, no operation answers 5xx (schemathesis's ``not_a_server_error`` check; the other checks
belong to a later issue).

The server is gunicorn serving ``wms.wsgi`` as production does, on its own SQLite file (migrated,
then seeded by ``seed_demo``, which prints one user per role with an API token), on a spare port
in 18021-18029. For each role (clerk, auditor, finance, manager, and no token) and each operation
of ``/api/v1/schema/``, it sends schemathesis's coverage cases (boundary and invalid values, a
sample of them) and then Hypothesis-generated cases, valid and invalid, until that pair's fair
share of the time budget is spent.

It runs once per suite: in the SQLite pass (its server uses SQLite in either pass; the PostgreSQL
pass skips it). Knobs, all optional: ``WMS_SCHEMATHESIS_SECONDS`` (the budget, default 90),
``WMS_SCHEMATHESIS_EXAMPLES`` (Hypothesis examples per operation, role and mode, default 25),
``WMS_SCHEMATHESIS_DATABASE_URL`` (serve a PostgreSQL database instead, to look for its own 5xx;
migrated and seeded as it is) and ``WMS_SCHEMATHESIS_SEED``.

A failure lists each distinct server error once (operation, status, the last line of the server's
traceback), with the roles that met it, and one request to reproduce it: method, path, query,
body and a curl command (its token filtered: use the role's token from ``seed_demo``).
"""
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.db import connection
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Unsatisfiable

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.checks import not_a_server_error

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PORTS = range(18021, 18030)
ROLES = ("clerk", "manager", "auditor", "finance", None)  # None: no token (last: its bad tokens are throttled)
BUDGET = float(os.environ.get("WMS_SCHEMATHESIS_SECONDS", "90"))
EXAMPLES = int(os.environ.get("WMS_SCHEMATHESIS_EXAMPLES", "25"))
COVERAGE_CASES = 30  # per operation and role, spread over schemathesis's coverage cases
REQUEST_TIMEOUT = 30


# ---------------------------------------------------------------- the live server


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    log: Path


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _spare_port() -> int:
    for port in PORTS:
        if _free(port):
            return port
    with socket.socket() as sock:  # all taken: any free port
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _manage(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v1/schema/?format=json", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if connection.vendor != "sqlite":
        pytest.skip("the schemathesis run goes once per suite, in the SQLite pass")
    work = tmp_path_factory.mktemp("schemathesis")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(WMS_SQLITE_PATH=str(work / "live.sqlite3"), WMS_LOG_LEVEL="ERROR", PYTHONUNBUFFERED="1")
    if os.environ.get("WMS_SCHEMATHESIS_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["WMS_SCHEMATHESIS_DATABASE_URL"]
    _manage(["migrate", "--no-input"], env)
    seeded = _manage(["seed_demo"], env)
    tokens = dict(re.findall(r"^\s+(\w+)\s+\S+\s+([0-9a-f]{40})\b", seeded, re.MULTILINE))
    assert {"clerk", "auditor", "finance", "manager"} <= tokens.keys(), f"seed_demo printed no tokens:\n{seeded}"

    port = _spare_port()
    url = f"http://{HOST}:{port}"
    log = work / "server.log"
    args = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"{HOST}:{port}", "--timeout", "60",
            "--graceful-timeout", "5", "--log-level", "warning", "wms.wsgi:application"]
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _answers(url):
            assert process.poll() is None, f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        yield Server(url, tokens, log)
    finally:
        _stop(process)


# ---------------------------------------------------------------- the run


@dataclass
class Failure:
    role: str
    operation: str
    status: int | None
    cause: str  # the last line of the server's traceback, or what went wrong
    request: str  # what to send to reproduce it


@dataclass
class Run:
    server: Server
    session: requests.Session = field(default_factory=requests.Session)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    cut_short: list[str] = field(default_factory=list)  # (role, operation) pairs whose share ran out

    def _new_log(self, offset: int) -> str:
        with self.server.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def send(self, case, role: str | None, label: str) -> None:
        headers = {"Authorization": f"Token {self.server.tokens[role]}"} if role else {}
        offset = self.server.log.stat().st_size
        self.requests += 1
        try:
            response = case.call(base_url=self.server.url, session=self.session, headers=headers, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            self._record(case, role, label, None, f"no answer: {type(exc).__name__}: {exc}")
            return
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except (AssertionError, BaseExceptionGroup):
            time.sleep(0.05)  # let the worker's log line land
            lines = [line for line in self._new_log(offset).splitlines() if line.strip()]
            self._record(case, role, label, response.status_code, lines[-1][:300] if lines else "(nothing in the server log)")

    def _record(self, case, role, label, status, cause) -> None:
        body = "" if case.body is NOT_SET else f" {case.media_type} body={str(case.body)[:800]}"
        request = (
            f"{case.method.upper()} {case.formatted_path} query={case.query!r}{body}\n"
            f"      {case.as_curl_command(base_url=self.server.url)[:1500]}"
        )
        self.failures.append(Failure(role or "no token", label, status, cause, request))


def _coverage_cases(schema, operation) -> list:
    """An even sample of schemathesis's coverage cases for the operation (boundary values, each
    constraint broken in turn). ``iter_coverage_cases`` is not a public API: if a minor release
    moves it, the run warns and goes on with generated cases only."""
    try:
        config = schema.config.generation_for(operation=operation, phase="coverage")
        cases = list(itertools.islice(schema.iter_coverage_cases(
            operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], generation_config=config), 3000))
    except (AttributeError, TypeError) as exc:
        import warnings

        warnings.warn(f"schemathesis coverage cases unavailable ({exc}); generated cases only", stacklevel=1)
        return []
    step = max(1, len(cases) // COVERAGE_CASES)
    return cases[::step][:COVERAGE_CASES]


def _fuzz(run: Run, operation, role, label, mode, until: float) -> None:
    """Hypothesis-generated cases for one mode, up to EXAMPLES of them or until ``until``."""
    strategy = operation.as_strategy(generation_mode=mode)
    examples = settings(
        max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
    )

    @examples
    @given(case=strategy)
    def generated(case):
        if time.monotonic() < until:
            run.send(case, role, label)

    if os.environ.get("WMS_SCHEMATHESIS_SEED"):
        generated = seed(int(os.environ["WMS_SCHEMATHESIS_SEED"]))(generated)
    try:
        generated()
    except Unsatisfiable:  # nothing to break (an operation without parameters has no invalid cases)
        pass


def _report(run: Run, seconds: float, operations: int) -> str:
    distinct = defaultdict(list)
    for failure in run.failures:
        cause = re.sub(r"\b\d+\b", "N", failure.cause)  # one entry per cause, whatever the ids
        distinct[(failure.operation, failure.status, cause)].append(failure)
    lines = [f"{len(run.failures)} server errors, {len(distinct)} distinct, in {run.requests} requests "
             f"({operations} operations x {len(ROLES)} roles, {seconds:.0f} s):"]
    for (operation, status, _), failures in sorted(distinct.items(), key=lambda item: str(item[0])):
        first = failures[0]
        roles = sorted({f.role for f in failures})
        lines.append(f"- {operation} -> {status} ({len(failures)}x; roles {', '.join(roles)}): {first.cause}\n"
                     f"    reproduce: {first.request}")
    return "\n".join(lines)


def test_no_operation_answers_a_server_error_for_any_role(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operations"
    coverage = {operation.label: _coverage_cases(schema, operation) for operation in operations}
    run = Run(server)
    units = [(role, operation) for role in ROLES for operation in operations]
    started = time.monotonic()
    for done, (role, operation) in enumerate(units):
        now = time.monotonic()
        until = now + max(0.0, BUDGET - (now - started)) / (len(units) - done)  # a fair share of what is left
        label = operation.label
        halfway = now + (until - now) / 2  # half the share for coverage cases, the rest for generated ones
        for case in coverage[label]:
            if time.monotonic() >= halfway:
                break
            run.send(case, role, label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(run, operation, role, label, mode, until)
        if time.monotonic() >= until:
            run.cut_short.append(f"{role or 'no token'} {label}")
    seconds = time.monotonic() - started
    report = _report(run, seconds, len(operations))
    print(report)
    if run.cut_short:
        print(f"{len(run.cut_short)} of {len(units)} (role, operation) pairs ran out of their share of {BUDGET:.0f} s")
    assert not run.failures, report
