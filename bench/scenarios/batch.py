"""Scenario 3, batch: ``POST /movements/batch/`` with 1,000 movements per request from a few
concurrent Python clients (a request is heavy enough that the client's cost is small).
Ceilings: the very rows the product appended, written again by as many clients, 1,000 rows per
statement and a commit each, into a scratch copy of the events table (same columns, constraints
and indexes): (a) by ``COPY ... FROM STDIN`` of their text (the target's ceiling: the fastest way
PostgreSQL takes rows, and the one the product's batch path uses); (b) by multi-row ``INSERT``."""
import io
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from psycopg2.extras import execute_values

from ledger.selectors import ledger_head

from .. import targets
from ..context import MOVEMENTS, Bench
from ..loadgen import request
from ..movements import STEADY, random_movement
from ..report import Row

BATCH = 1_000
TIME_LIMIT = 900  # seconds; a client stops sending after it


def _post_batches(bench: Bench, bodies: list[list[dict]]) -> list[int]:
    deadline = time.monotonic() + TIME_LIMIT
    statuses = []
    for movements in bodies:
        if time.monotonic() > deadline:
            break
        status, content, _ = request(bench.app_url + MOVEMENTS + "batch/", token=bench.clerk_token,
                                     method="POST", body={"movements": movements})
        if status != 201:
            raise RuntimeError(f"batch answered {status}: {content[:300]!r}")
        statuses.append(status)
    return statuses


SCRATCH = "bench_movement_copy"


def _write_again(bench: Bench, chunks: list, write: Callable) -> float:
    """Seconds for the clients to ``write(cursor, chunk)`` every chunk (a commit each) into a
    fresh scratch copy of the events table, dropped afterwards."""
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {SCRATCH} (LIKE ledger_movement INCLUDING ALL)")

    def client(share: list) -> None:
        with bench.connection(autocommit=False) as connection, connection.cursor() as cursor:
            for chunk in share:
                write(cursor, chunk)
                connection.commit()

    clients = bench.sizes.batch_clients
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, [chunks[i::clients] for i in range(clients)]))
        return time.monotonic() - started
    finally:
        with bench.connection() as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {SCRATCH}")


def _ceilings(bench: Bench, first: int, last: int) -> tuple[float, float]:
    """Rows/s of positions (first, last] written again by COPY, then by multi-row INSERT."""
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ledger_movement LIMIT 0")
        columns = ", ".join(c.name for c in cursor.description if c.name != "id")
        selected = f"SELECT {columns} FROM ledger_movement WHERE position > {int(first)} AND position <= {int(last)} ORDER BY position"
        cursor.execute(selected)
        rows = cursor.fetchall()
        text = io.StringIO()
        cursor.copy_expert(f"COPY ({selected}) TO STDOUT", text)
    lines = text.getvalue().splitlines(keepends=True)
    copied = _write_again(
        bench, ["".join(lines[i : i + BATCH]) for i in range(0, len(lines), BATCH)],
        lambda cursor, chunk: cursor.copy_expert(f"COPY {SCRATCH} ({columns}) FROM STDIN", io.StringIO(chunk)),
    )
    inserted = _write_again(
        bench, [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)],
        lambda cursor, chunk: execute_values(cursor, f"INSERT INTO {SCRATCH} ({columns}) VALUES %s", chunk, page_size=BATCH),
    )
    return len(rows) / copied, len(rows) / inserted


def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    rng = random.Random(bench.rng.random())
    bodies = [[random_movement(rng, bench.pool, STEADY) for _ in range(BATCH)]
              for _ in range(max(sizes.batch_events // BATCH, 1))]
    first = ledger_head().position
    started = time.monotonic()
    with ThreadPoolExecutor(sizes.batch_clients) as pool:
        list(pool.map(lambda share: _post_batches(bench, share),
                      [bodies[i :: sizes.batch_clients] for i in range(sizes.batch_clients)]))
    seconds = time.monotonic() - started
    last = ledger_head().position
    rate = (last - first) / seconds
    copied, inserted = _ceilings(bench, first, last)
    bench.details["batch"] = {"events": last - first, "seconds": seconds, "clients": sizes.batch_clients,
                              "copy_rate": copied, "insert_rate": inserted}
    clients = f"{sizes.batch_clients} clients"
    return [
        Row("batch", "events/s", rate, "/s", copied, f"COPY, {clients}",
            f">= {targets.BATCH_RATE:,}/s and >= {targets.BATCH_SHARE_OF_COPY:.0%} of COPY",
            rate >= targets.BATCH_RATE and rate >= targets.BATCH_SHARE_OF_COPY * copied,
            note=f"{last - first:,} events in {BATCH:,}-movement requests from {clients}"),
        Row("batch", "events/s", rate, "/s", inserted, f"multi-row INSERT, {clients}"),
    ]
