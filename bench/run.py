"""One benchmark run: a throwaway database, the catalog and users, the product under gunicorn,
each scenario in turn, then one table on stdout and the same as JSON under bench/results/.

The bench process itself runs Django in production mode against the throwaway database (as the
servers it starts do), so in-process calls of the services behave as they do in production:
a posting's commit queues a catch-up on Redis rather than running it eagerly.
"""
import os
import random
import secrets
import signal
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import django
from django.db import connections

from .context import Bench
from .db import Server, server_settings, throwaway_database
from .loadgen import require_wrk
from .processes import gunicorn
from .report import Row, describe, machine, table, write_json
from .sizes import Sizes

RESULTS = Path(__file__).resolve().parent / "results"


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of production mode (README), pointed at this run's database and Redis."""
    env = {key: value for key, value in os.environ.items() if key not in ("CELERY_RESULT_BACKEND", "DJANGO_DEBUG")}
    metrics = Path(tempfile.gettempdir()) / f"wms-bench-metrics-{os.getpid()}"
    metrics.mkdir(exist_ok=True)  # the Celery worker may start before gunicorn empties it
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=redis_url,
        REDIS_URL=redis_url,
        DJANGO_SECRET_KEY=f"bench-{secrets.token_hex(16)}",
        DJANGO_SETTINGS_MODULE="wms.settings",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback: no TLS proxy in front
        # Measured with production's metrics and logs on: a JSON line per request, the counts in
        # multiprocess files.
        WMS_LOG_LEVEL="INFO",
        WMS_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(metrics),
    )
    return env


def _scenarios():
    """In the order they run: the posting loads on the small ledger first, then the large ledger.
    The backdated load runs right after the current one: scenario 1's movements are its history."""
    from .scenarios import as_of, backdated, batch, contention, forecast, lag, load, lots, posting, rebuild, valuation, verify

    return [("posting", posting), ("backdated", backdated), ("contention", contention), ("lag", lag),
            ("lots", lots), ("batch", batch), ("load", load), ("rebuild", rebuild), ("valuation", valuation), ("as-of", as_of), ("verify", verify),
            ("forecast", forecast)]


def _prepare(bench: Bench) -> None:
    from django.core.management import call_command

    from . import data

    call_command("migrate", verbosity=0)
    data.load_catalog(bench)
    data.create_users(bench)
    data.stock_pools(bench)


def _run_scenarios(bench: Bench, only: set[str] | None) -> tuple[list[Row], bool]:
    rows, ok = [], True
    with gunicorn("wms.settings", bench.env, bench.work) as (bench.app_url, bench.app_pid):
        for name, scenario in _scenarios():
            if only is not None and name not in only:
                continue
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                rows += scenario.run(bench)
            except Exception as exc:  # one broken scenario must not hide the others' figures
                traceback.print_exc()
                rows.append(Row(name, "FAILED", f"{type(exc).__name__}: {exc}"[:100], met=False))
                ok = False
            print(f"bench: {name} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return rows, ok


def _exit_on_term(signum, frame):
    sys.exit(128 + signum)  # unwinds every `with`: servers stopped, database dropped


def main(
    sizes: Sizes, *, keep: bool, redis_url: str, results: Path = RESULTS, seed: int | None = None,
    only: set[str] | None = None,
) -> int:
    """One run; ``only`` names the scenarios to run (in their usual order), all by default."""
    require_wrk()
    if urlsplit(redis_url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("bench: uses only a Redis on this machine (127.0.0.1)")
    signal.signal(signal.SIGTERM, _exit_on_term)
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # whitenoise: no collectstatic here
    server = Server.from_env()
    seed = seed if seed is not None else secrets.randbits(32)
    started_at = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="wms-bench-") as work, throwaway_database(server, keep=keep) as dbname:
        env = production_env(server.url(dbname), redis_url)
        os.environ.update(env)
        django.setup()
        bench = Bench(sizes, Path(work), server, dbname, env, redis_url, random.Random(seed))
        try:
            with bench.connection() as connection:
                facts = machine(server_settings(connection))
            facts["load_average_at_start"] = os.getloadavg()
            print(f"bench: database {dbname}; {describe(facts)}", file=sys.stderr, flush=True)
            _prepare(bench)
            rows, ok = _run_scenarios(bench, only)
        finally:
            connections.close_all()
    facts["load_average_at_end"] = os.getloadavg()
    print(describe(facts))
    print(table(rows))
    path = write_json(results, {
        "started_at": started_at, "finished_at": datetime.now(timezone.utc), "seed": seed,
        "sizes": asdict(sizes), "only": sorted(only) if only is not None else None, "machine": facts, "rows": [row.as_dict() for row in rows], "details": bench.details,
    })
    print(f"written to {path}")
    return 0 if ok else 1
