"""Scenario 8, lag: the posting load again, now with a real Celery worker (production settings,
the local Redis as broker) keeping the projections up to date. A poller reads the checkpoint of
the per-location projection every ~10 ms and notes when it first passes each position; an
event's lag is that moment minus its ``recorded_at`` (taken just before its commit).

Resolution: the poll interval plus one poll's round trip (the mean is reported).
"""
import bisect
import threading
import time
from dataclasses import asdict

import redis

from ledger.parsing import parse_movement
from ledger.selectors import ledger_head
from ledger.services import movement_post
from projections.services import projections_catch_up

from .. import targets
from ..context import MOVEMENTS, Bench
from ..movements import STEADY
from ..processes import celery_worker
from ..report import Row
from ..stats import percentile
from .posting import cpu_ms, load

PROJECTION = "stock_by_location"
POLL_INTERVAL = 0.01
WORKER_START_LIMIT = 60  # seconds for the worker to apply a first posting
DRAIN_LIMIT = 60  # seconds for it to apply the last one after the load stops


class CheckpointPoller(threading.Thread):
    """Records (position, first time seen) each time the checkpoint moves."""

    def __init__(self, bench: Bench, limit: float):
        super().__init__(daemon=True)
        self.bench, self.limit = bench, limit
        self.positions: list[int] = []  # ascending
        self.moments: list[float] = []  # when each was first seen (epoch seconds)
        self.polls, self.seconds = 0, 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        deadline = started + self.limit
        with self.bench.connection() as connection, connection.cursor() as cursor:
            while not self.stopping.is_set() and time.monotonic() < deadline:
                cursor.execute("SELECT position FROM projections_checkpoint WHERE name = %s", [PROJECTION])
                position, now = cursor.fetchone()[0], time.time()
                self.polls += 1
                if not self.positions or position > self.positions[-1]:
                    self.positions.append(position)
                    self.moments.append(now)
                time.sleep(POLL_INTERVAL)
        self.seconds = time.monotonic() - started

    @property
    def interval_ms(self) -> float:
        return self.seconds / max(self.polls, 1) * 1000

    def position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def wait_for(self, position: int, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while self.position() < position and time.monotonic() < deadline and self.is_alive():
            time.sleep(POLL_INTERVAL)
        return self.position() >= position

    def first_seen(self, position: int) -> float | None:
        index = bisect.bisect_left(self.positions, position)
        return self.moments[index] if index < len(self.moments) else None


def _probe(bench: Bench, poller: CheckpointPoller) -> None:
    """Post one movement in-process (its commit queues a catch-up) and wait until the worker applied it."""
    product, location, _ = bench.pool[0]
    body = {"kind": "receipt", "product": product, "location": location, "quantity": "1"}
    position = movement_post(user=bench.clerk, movement=parse_movement(body)).movement.position
    if not poller.wait_for(position, WORKER_START_LIMIT):
        raise RuntimeError(f"the Celery worker applied no posting within {WORKER_START_LIMIT} s")


def run(bench: Bench) -> list[Row]:
    projections_catch_up()  # start level: only this scenario's postings are left to apply
    redis.Redis.from_url(bench.redis_url).flushdb()  # no stale "catch-up queued" flag or message
    limit = WORKER_START_LIMIT + bench.sizes.warmup + bench.sizes.duration + DRAIN_LIMIT + 60
    poller = CheckpointPoller(bench, limit)
    with celery_worker(bench.env, bench.work) as worker:
        poller.start()
        try:
            _probe(bench, poller)
            first = ledger_head().position
            result, cpu = load(bench, bench.app_url + MOVEMENTS, bench.pool_path, STEADY, "lag",
                               {"gunicorn": bench.app_pid, "worker": worker.pid})
            last = ledger_head().position
            drained = poller.wait_for(last, DRAIN_LIMIT)
        finally:
            poller.stopping.set()
            poller.join()
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT position, extract(epoch FROM recorded_at) FROM ledger_movement "
            "WHERE position > %s AND position <= %s",
            [first, last],
        )
        recorded = cursor.fetchall()
    # An event never seen counts from its recording to the end of polling: a lower bound.
    end = time.time()
    delays = [(poller.first_seen(position) or end) - float(at) for position, at in recorded]
    p99, worst = percentile(delays, 99), max(delays)
    note = (f"{len(delays):,} events, applied in at least {len(poller.positions):,} catch-ups; "
            f"a poll every {poller.interval_ms:.0f} ms (the resolution)")
    if not drained:
        note += f"; NOT all applied within {DRAIN_LIMIT} s after the load"
    bench.details["lag"] = {"wrk": asdict(result), "cpu_s": cpu, "events": len(delays), "drained": drained,
                            "poll_ms": poller.interval_ms, "p50_s": percentile(delays, 50),
                            "checkpoint_moves_seen": len(poller.positions)}
    return [
        Row("lag", "p99 commit to projection", p99, "s", target=f"<= {targets.LAG_P99_S:g} s",
            met=drained and p99 <= targets.LAG_P99_S, note=note),
        Row("lag", "worst commit to projection", worst, "s"),
        Row("lag", "movements/s meanwhile", result.rate, "/s", note="the posting load, with the worker running"),
        Row("lag", "worker CPU per posting", cpu_ms(cpu, "worker", result), "ms",
            note="the Celery worker's processes, from /proc"),
    ]
