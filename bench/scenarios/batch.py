"""Scenario 3, batch: ``POST /movements/batch/`` with 1,000 movements per request from a few
concurrent Python clients (a request is heavy enough that the client's cost is small).
Ceiling: the very rows the product appended, inserted again with multi-row INSERTs of 1,000
rows by as many clients into a scratch copy of the events table (same columns and indexes)."""
import random
import time
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


def _insert_again(bench: Bench, first: int, last: int) -> float:
    """Multi-row INSERT of positions (first, last] into a scratch copy; return rows/s."""
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_movement_copy (LIKE ledger_movement INCLUDING ALL)")
        cursor.execute("SELECT * FROM ledger_movement LIMIT 0")
        columns = [c.name for c in cursor.description if c.name != "id"]
        cursor.execute(f"SELECT {', '.join(columns)} FROM ledger_movement WHERE position > %s AND position <= %s "
                       "ORDER BY position", [first, last])
        rows = cursor.fetchall()
    chunks = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    statement = f"INSERT INTO bench_movement_copy ({', '.join(columns)}) VALUES %s"

    def client(share: list) -> None:
        with bench.connection(autocommit=False) as connection, connection.cursor() as cursor:
            for chunk in share:
                execute_values(cursor, statement, chunk, page_size=BATCH)
                connection.commit()

    clients = bench.sizes.batch_clients
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, [chunks[i::clients] for i in range(clients)]))
    seconds = time.monotonic() - started
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_movement_copy")
    return len(rows) / seconds


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
    ceiling = _insert_again(bench, first, last)
    bench.details["batch"] = {"events": last - first, "seconds": seconds, "clients": sizes.batch_clients}
    return [
        Row("batch", "events/s", rate, "/s", ceiling, f"multi-row INSERT, {sizes.batch_clients} clients",
            f">= {targets.BATCH_RATE:,}/s", rate >= targets.BATCH_RATE,
            note=f"{last - first:,} events in {BATCH:,}-movement requests from {sizes.batch_clients} clients"),
    ]
