"""Scenario 1, posting: the product under gunicorn (production settings), wrk with 8 connections
posting receipts, issues and transfers over well-stocked product-locations.

Ceilings, measured here in the same run: (a) the same transaction shape in plain SQL through
psycopg2 on 8 connections, no HTTP (check-and-change the guard row, take the head, insert the
event); (b) the bare DRF endpoint of ``bench.bare`` under the same gunicorn configuration and
the same wrk script. Queries per posting are counted in-process around a real POST, per kind.
"""
import random
import threading
import time
from dataclasses import asdict

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .. import sql, targets
from ..context import MOVEMENTS, Bench
from ..cpu import POSTGRES, cpu_used
from ..loadgen import CONNECTIONS, WrkResult, wrk
from ..movements import STEADY, Mix, random_movement, source_leg
from ..processes import gunicorn
from ..report import Row
from ..stats import percentile

MAX_TRANSACTIONS_PER_CONNECTION = 5_000_000  # with the deadline, bounds the plain-SQL loop


def load(
    bench: Bench, url: str, pool, mix: Mix, tag: str, servers: dict[str, int], occurred_at: str | None = None
) -> tuple[WrkResult, dict]:
    """Warm the server up (not counted), then the timed wrk run; also return the CPU seconds
    that ``servers`` (name: pid) and the database used during it. With ``occurred_at`` (ISO
    8601), every movement of both runs is dated at that business time."""
    wrk(url, pool, bench.clerk_token, f"{tag}-warmup", mix, bench.sizes.warmup, occurred_at)
    with cpu_used(bench, servers) as used:
        result = wrk(url, pool, bench.clerk_token, tag, mix, bench.sizes.duration, occurred_at)
    return result, used


def cpu_ms(used: dict, name: str, result: WrkResult) -> float:
    """CPU milliseconds per successful posting."""
    return used[name] / max(result.ok, 1) * 1000


def sql_ceiling(bench: Bench) -> dict:
    """8 connections, each running the posting transaction in plain SQL until the deadline."""
    deadline = time.monotonic() + bench.sizes.duration
    latencies: list[list[float]] = [[] for _ in range(CONNECTIONS)]
    refused = [0] * CONNECTIONS
    seeds = [bench.rng.random() for _ in range(CONNECTIONS)]
    started = time.monotonic()

    def client(index: int) -> None:
        rng = random.Random(seeds[index])
        with bench.connection(autocommit=False) as conn, conn.cursor() as cursor:
            for _ in range(MAX_TRANSACTIONS_PER_CONNECTION):
                if time.monotonic() > deadline:
                    return
                begun = time.perf_counter()
                product, location, delta = source_leg(random_movement(rng, bench.pool, STEADY))
                params = {"product": product, "location": location, "delta": delta}
                cursor.execute(sql.UPDATE_BALANCE, params)
                if cursor.fetchone() is None:
                    conn.rollback()
                    refused[index] += 1
                    continue
                cursor.execute(sql.TAKE_HEAD)
                params["position"] = cursor.fetchone()[0]
                cursor.execute(sql.INSERT_EVENT, params)
                conn.commit()
                latencies[index].append(time.perf_counter() - begun)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    samples = [s for per_client in latencies for s in per_client]
    return {
        "rate": len(samples) / seconds, "committed": len(samples), "refused": sum(refused), "seconds": seconds,
        "p50_ms": percentile(samples, 50) * 1000, "p99_ms": percentile(samples, 99) * 1000,
    }


def count_queries(bench: Bench, *, occurred_at: str | None = None, tag: str = "queries") -> dict[str, list[str]]:
    """The SQL of one POST per kind through the whole Django stack (after one warm-up POST), on
    the first pool pair; with ``occurred_at`` (ISO 8601), every POST is dated at that time."""
    product, location, other = bench.pool[0]
    bodies = {
        "receipt": {"kind": "receipt", "product": product, "location": location, "quantity": "1", "unit_cost": "2.40"},
        "issue": {"kind": "issue", "product": product, "location": location, "quantity": "1"},
        "transfer": {"kind": "transfer", "product": product, "from_location": location, "to_location": other,
                     "quantity": "1"},
    }
    if occurred_at is not None:
        bodies = {kind: {**body, "occurred_at": occurred_at} for kind, body in bodies.items()}
    return queries_of(bench, bodies, warmups=[bodies["receipt"]], tag=tag)


def queries_of(bench: Bench, bodies: dict[str, dict], *, warmups: list[dict], tag: str) -> dict[str, list[str]]:
    """The SQL of one POST of each body (by name) through the whole Django stack, after the ``warmups``
    (which fill the per-process caches, so that each count is a steady posting's)."""
    client = Client(HTTP_AUTHORIZATION=f"Token {bench.clerk_token}")

    def post(body: dict, key: str):
        response = client.post(MOVEMENTS, body, content_type="application/json", headers={"Idempotency-Key": key})
        if response.status_code != 201:
            raise RuntimeError(f"counting queries: {key} answered {response.status_code} {response.content[:300]!r}")

    for n, body in enumerate(warmups):
        post(body, f"{tag}-warmup-{n}")
    queries = {}
    for name, body in bodies.items():
        with CaptureQueriesContext(connection) as captured:
            post(body, f"{tag}-{name}")
        queries[name] = [query["sql"] for query in captured.captured_queries]
    return queries


def run(bench: Bench) -> list[Row]:
    plain = sql_ceiling(bench)
    with gunicorn("bench.bare.settings", bench.env, bench.work) as (bare_url, bare_pid):
        bare_endpoint = f"{bare_url}/bare/movements/"
        bare, bare_cpu = load(bench, bare_endpoint, bench.pool_path, STEADY, "bare", {"gunicorn": bare_pid})
    ours, cpu = load(bench, bench.app_url + MOVEMENTS, bench.pool_path, STEADY, "posting", {"gunicorn": bench.app_pid})
    queries = count_queries(bench)
    bench.details["posting"] = {"wrk": asdict(ours), "cpu_s": cpu, "bare_drf": asdict(bare), "bare_cpu_s": bare_cpu,
                                "plain_sql": plain, "queries": queries}
    failures = "" if not ours.failed else f"statuses {ours.statuses}, socket errors {ours.socket_errors}"
    rate_met = ours.rate >= targets.POSTING_RATE and ours.rate >= targets.POSTING_SHARE_OF_BARE * bare.rate
    return [
        Row("posting", "movements/s", ours.rate, "/s", bare.rate, "bare DRF",
            f">= {targets.POSTING_RATE:,}/s and >= {targets.POSTING_SHARE_OF_BARE:.0%} of bare DRF", rate_met),
        Row("posting", "movements/s", ours.rate, "/s", plain["rate"], "plain SQL, 8 conns"),
        Row("posting", "p50 latency", ours.p50_ms, "ms", bare.p50_ms, "bare DRF"),
        Row("posting", "p99 latency", ours.p99_ms, "ms", bare.p99_ms, "bare DRF",
            f"<= {targets.POSTING_P99_MS} ms", ours.p99_ms <= targets.POSTING_P99_MS),
        Row("posting", "error share", ours.share(ours.failed), "%", note=failures),
        Row("posting", "gunicorn CPU per posting", cpu_ms(cpu, "gunicorn", ours), "ms",
            cpu_ms(bare_cpu, "gunicorn", bare), "bare DRF", note="user + system time of the workers, from /proc"),
        Row("posting", "PostgreSQL CPU per posting", cpu_ms(cpu, POSTGRES, ours), "ms",
            cpu_ms(bare_cpu, POSTGRES, bare), "bare DRF", note="the backends of the bench database, from /proc"),
        Row("posting", "SQL queries per posting", ", ".join(f"{kind} {len(q)}" for kind, q in queries.items()),
            note="counted in-process around one POST per kind; the SQL is in the JSON"),
    ]
