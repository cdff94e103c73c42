"""Scenario 4, load: the large ledger, posted through the product's own bulk path
(``movements_post`` in batches of 5,000, parsed by ``parse_movement``), in two processes that
own disjoint halves of the catalog; never inserted behind its back.

Each process keeps its own tally of the stock it posted, so its issues and transfers never run
short; business times (``occurred_at``) rise over the past year, as an imported history would.
Afterwards ``VACUUM ANALYZE`` (untimed) leaves the table as autovacuum would for the reads.
"""
import multiprocessing
import random
import sys
import time
from datetime import datetime, timedelta, timezone

import django

from .. import data
from ..context import Bench
from ..report import Row

PROCESSES = 2
PROGRESS_FROM = 100_000  # a process posting at least this many events prints its progress
HOME_LOCATIONS = 3  # locations each product is kept at
HISTORY = timedelta(days=365)
TIME_LIMIT = 3 * 3600  # seconds; a process stops posting after it


def _movements(rng: random.Random, products: list[int], locations: list[int], count: int, start: datetime):
    """``count`` API bodies over ``products``: receipts, and issues and transfers of stock on hand."""
    homes = {p: rng.sample(locations, HOME_LOCATIONS) for p in products}
    on_hand: dict[tuple[int, int], int] = {}
    step = HISTORY / max(count, 1)
    for i in range(count):
        product = rng.choice(products)
        location = rng.choice(homes[product])
        held = on_hand.get((product, location), 0)
        roll = rng.random()
        body = {"product": product, "occurred_at": (start + step * i).isoformat()}
        if held and roll < 0.30:
            quantity = rng.randint(1, min(held, 20))
            body.update(kind="issue", location=location, quantity=str(quantity))
            on_hand[product, location] = held - quantity
        elif held and roll < 0.45:
            other = rng.choice([loc for loc in homes[product] if loc != location])
            quantity = rng.randint(1, min(held, 10))
            body.update(kind="transfer", from_location=location, to_location=other, quantity=str(quantity))
            on_hand[product, location] = held - quantity
            on_hand[product, other] = on_hand.get((product, other), 0) + quantity
        else:
            quantity = rng.randint(1, 20)
            cost = f"{rng.randint(100, 999) / 100:.2f}"
            body.update(kind="receipt", location=location, quantity=str(quantity), unit_cost=cost)
            on_hand[product, location] = held + quantity
        yield body


def _limited(bodies, deadline: float, report_every: int | None):
    for count, body in enumerate(bodies, start=1):
        if time.monotonic() > deadline:
            return
        if report_every and count % report_every == 0:
            print(f"bench: load: {count:,} events", file=sys.stderr, flush=True)
        yield body


def _post_share(user_id: int, products: list[int], locations: list[int], count: int, seed: float,
                start: datetime, loud: bool) -> tuple[float, float, int]:
    """In a child process: post ``count`` movements; return (started, finished, posted)."""
    from django.contrib.auth.models import User

    user = User.objects.get(pk=user_id)
    bodies = _movements(random.Random(seed), products, locations, count, start)
    report_every = count // 10 if loud and count >= PROGRESS_FROM else None
    started = time.time()
    posted = data.post_in_batches(user, _limited(bodies, time.monotonic() + TIME_LIMIT, report_every))
    return started, time.time(), posted


def run(bench: Bench) -> list[Row]:
    events = bench.sizes.events
    start = datetime.now(timezone.utc) - HISTORY - timedelta(days=1)
    shares = [events // PROCESSES + (i < events % PROCESSES) for i in range(PROCESSES)]
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    with spawn.Pool(PROCESSES, initializer=django.setup) as pool:  # leaving it terminates the children
        results = pool.starmap(_post_share, [
            (bench.clerk.pk, bench.products[i::PROCESSES], bench.locations, shares[i], bench.rng.random(), start,
             i == 0)
            for i in range(PROCESSES)
        ])
    seconds = max(r[1] for r in results) - min(r[0] for r in results)
    posted = sum(r[2] for r in results)
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ledger_movement")
    bench.details["load"] = {"events": posted, "seconds": seconds, "processes": PROCESSES}
    note = f"{posted:,} events by {PROCESSES} processes"
    if posted < events:
        note += f"; STOPPED at the {TIME_LIMIT} s limit"
    return [Row("load", "events/s", posted / seconds, "/s", note=note)]
