"""Scenario 8, lag: the posting load again, now with a real Celery worker (production settings,
the local Redis as broker) keeping the read sides up to date: the stock projections and the
valuation (each receipt of the load carries a unit cost, so every posting is valued: cost entries
by FIFO or moving average). A poller reads the checkpoint of the per-location projection and the
valuation's every ~10 ms and notes when each first passes each position; an event's lag is that
moment minus its ``recorded_at`` (taken just before its commit). The valuation's lag is printed
beside the projection's, its ceiling: both are queued by the same commit.

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
from valuation.services import CHECKPOINT as VALUATION, valuation_catch_up

from .. import targets
from ..context import MOVEMENTS, Bench
from ..movements import STEADY
from ..processes import celery_worker
from ..report import Row
from ..stats import percentile
from .posting import cpu_ms, load

PROJECTION = "stock_by_location"
CHECKPOINTS = {  # read side: the checkpoint row the poller reads
    "projection": f"SELECT position FROM projections_checkpoint WHERE name = '{PROJECTION}'",
    "valuation": f"SELECT position FROM valuation_valuationcheckpoint WHERE name = '{VALUATION}'",
}
POLL_INTERVAL = 0.01
WORKER_START_LIMIT = 60  # seconds for the worker to apply a first posting
DRAIN_LIMIT = 60  # seconds for it to apply the last one after the load stops


class CheckpointPoller(threading.Thread):
    """Records (position, first time seen) each time the checkpoint read by ``sql`` moves."""

    def __init__(self, bench: Bench, sql: str, limit: float):
        super().__init__(daemon=True)
        self.bench, self.sql, self.limit = bench, sql, limit
        self.positions: list[int] = []  # ascending
        self.moments: list[float] = []  # when each was first seen (epoch seconds)
        self.polls, self.seconds = 0, 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        deadline = started + self.limit
        with self.bench.connection() as connection, connection.cursor() as cursor:
            while not self.stopping.is_set() and time.monotonic() < deadline:
                cursor.execute(self.sql)
                row, now = cursor.fetchone(), time.time()
                position = row[0] if row else 0
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


def _probe(bench: Bench, pollers: dict[str, CheckpointPoller]) -> None:
    """Post one movement in-process (its commit queues the catch-ups) and wait until the worker applied it."""
    product, location, _ = bench.pool[0]
    body = {"kind": "receipt", "product": product, "location": location, "quantity": "1", "unit_cost": "2.40"}
    position = movement_post(user=bench.clerk, movement=parse_movement(body)).movement.position
    for side, poller in pollers.items():
        if not poller.wait_for(position, WORKER_START_LIMIT):
            raise RuntimeError(f"the Celery worker applied no posting to the {side} within {WORKER_START_LIMIT} s")


def _delays(poller: CheckpointPoller, recorded: list[tuple[int, float]], end: float) -> list[float]:
    """Each event's lag; an event never seen counts from its recording to the end of polling (a lower bound)."""
    return [(poller.first_seen(position) or end) - float(at) for position, at in recorded]


def run(bench: Bench) -> list[Row]:
    projections_catch_up()  # start level: only this scenario's postings are left to apply
    valuation_catch_up()
    redis.Redis.from_url(bench.redis_url).flushdb()  # no stale "catch-up queued" flag or message
    limit = WORKER_START_LIMIT + bench.sizes.warmup + bench.sizes.duration + DRAIN_LIMIT + 60
    pollers = {side: CheckpointPoller(bench, sql, limit) for side, sql in CHECKPOINTS.items()}
    with celery_worker(bench.env, bench.work) as worker:
        for poller in pollers.values():
            poller.start()
        try:
            _probe(bench, pollers)
            first = ledger_head().position
            result, cpu = load(bench, bench.app_url + MOVEMENTS, bench.pool_path, STEADY, "lag",
                               {"gunicorn": bench.app_pid, "worker": worker.pid})
            last = ledger_head().position
            drained = {side: poller.wait_for(last, DRAIN_LIMIT) for side, poller in pollers.items()}
        finally:
            for poller in pollers.values():
                poller.stopping.set()
                poller.join()
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT position, extract(epoch FROM recorded_at) FROM ledger_movement "
            "WHERE position > %s AND position <= %s",
            [first, last],
        )
        recorded = cursor.fetchall()
    end = time.time()
    delays = {side: _delays(poller, recorded, end) for side, poller in pollers.items()}
    p99 = {side: percentile(d, 99) for side, d in delays.items()}
    notes = {}
    for side, poller in pollers.items():
        notes[side] = (f"{len(recorded):,} events, applied in at least {len(poller.positions):,} catch-ups; "
                       f"a poll every {poller.interval_ms:.0f} ms (the resolution)")
        if not drained[side]:
            notes[side] += f"; NOT all applied within {DRAIN_LIMIT} s after the load"
    bench.details["lag"] = {
        "wrk": asdict(result), "cpu_s": cpu, "events": len(recorded), "drained": drained,
        **{side: {"poll_ms": poller.interval_ms, "p50_s": percentile(delays[side], 50),
                  "checkpoint_moves_seen": len(poller.positions)} for side, poller in pollers.items()},
    }
    projection = "projection"
    return [
        Row("lag", "p99 commit to projection", p99[projection], "s", target=f"<= {targets.LAG_P99_S:g} s",
            met=drained[projection] and p99[projection] <= targets.LAG_P99_S, note=notes[projection]),
        Row("lag", "worst commit to projection", max(delays[projection]), "s"),
        Row("lag", "p99 commit to valuation", p99["valuation"], "s", p99[projection], "projection, same postings",
            target=f"<= {targets.LAG_P99_S:g} s", met=drained["valuation"] and p99["valuation"] <= targets.LAG_P99_S,
            note=notes["valuation"]),
        Row("lag", "worst commit to valuation", max(delays["valuation"]), "s", max(delays[projection]),
            "projection, same postings"),
        Row("lag", "movements/s meanwhile", result.rate, "/s", note="the posting load, with the worker running"),
        Row("lag", "worker CPU per posting", cpu_ms(cpu, "worker", result), "ms",
            note="the Celery worker's processes (both read sides), from /proc"),
    ]
