"""Scenario 5b, valuation (issue 15), right after the stock rebuild on the same large ledger:

- **rebuild**: ``valuation_rebuild()`` re-values every product from the first event (FIFO or
  average, per warehouse, in Python: ``valuation.engine``) and writes its entries, layers and
  states. Ceilings, in the same run: the stream of the events it reads, in its order (product,
  business time, position), doing nothing with them; and the stock rebuild's rate (scenario 5).
- **as of a date**: the value of every product as of the middle of the ledger's history
  (``valuation_on_hand(as_of=..., group_by="product")``); ceiling: the plain ``GROUP BY`` of the
  cost entries up to that time.
- **backdated receipt**: a product of its own with ``valuation_product_events`` events (receipts
  and issues over two warehouses, a year of business times) is valued (its first catch-up, timed:
  the ceiling), then a receipt dated before its first event is posted; the time from that
  posting's commit until the valuation has re-valued the product (what the worker does,
  ``valuation_catch_up``) is the settle time. Another thread posts receipts of another product
  through the API all along (after 10 not counted), from a second before the backdated receipt:
  the slowest of those posted while the re-valuation ran, beside the slowest of the second before,
  says whether it held postings (it must not: it locks only the valuation's own rows); a third polls ``pg_locks``
  meanwhile for any lock a backend waits for (there should be none). On 2 cores the re-valuation
  (Python, one core) and PostgreSQL's writes take CPU from the postings, so they slow down without
  waiting for anything: the lock poll tells the two apart.
"""
import random
import threading
import time
from datetime import datetime, timedelta, timezone

from catalog.models import Product
from ledger.parsing import parse_movement
from ledger.services import movement_post
from valuation.selectors import valuation_on_hand
from valuation.services import valuation_catch_up, valuation_rebuild

from .. import data
from ..context import MOVEMENTS, Bench
from ..db import scalar
from ..loadgen import request
from ..report import Row
from ..stats import percentile

STREAM = "SELECT product_id, occurred_at, position, kind, location_id, to_location_id, lot_id, quantity, delta, unit_cost, reverses_id " \
         "FROM ledger_movement ORDER BY product_id, occurred_at, position"
AS_OF_GROUP_BY = "SELECT product_id, sum(quantity), sum(value) FROM valuation_costentry WHERE occurred_at <= %s GROUP BY product_id"
SIDE_WARMUP = 10  # side postings first, not counted: gunicorn's workers have served nothing since scenario 3
BASELINE_SECONDS = 1.0  # side postings before the backdated receipt: what a posting takes anyway
SIDE_PAUSE = 0.02  # seconds between side postings
SIDE_MAX = 100_000  # a bound, should the re-valuation never finish
LOCK_WAITS = "SELECT l.locktype, l.relation::regclass::text, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " \
             "WHERE NOT l.granted AND a.datname = current_database()"
LOCK_POLL = 0.005  # seconds between polls of pg_locks


def _stream_rate(bench: Bench, events: int) -> float:
    with bench.connection(autocommit=False) as conn, conn.cursor(name="bench_valuation_stream") as cursor:
        cursor.itersize = 20_000
        started = time.monotonic()
        cursor.execute(STREAM)
        for _ in cursor:
            pass
        return events / (time.monotonic() - started)


def _one_product_history(bench: Bench, product: int, locations: list[int], count: int, start: datetime):
    rng = random.Random(bench.rng.random())
    on_hand = dict.fromkeys(locations, 0)
    step = timedelta(days=365) / count
    for i in range(count):
        location = rng.choice(locations)
        body = {"product": product, "location": location, "occurred_at": (start + step * (i + 1)).isoformat()}
        if on_hand[location] and rng.random() < 0.45:
            quantity = rng.randint(1, min(on_hand[location], 20))
            body.update(kind="issue", quantity=str(quantity))
            on_hand[location] -= quantity
        else:
            quantity = rng.randint(1, 20)
            body.update(kind="receipt", quantity=str(quantity), unit_cost=f"{rng.randint(100, 999) / 100:.2f}")
            on_hand[location] += quantity
        yield body


def _post_meanwhile(bench: Bench, product: int, location: int, stop: threading.Event, postings: list[tuple[float, float, int]],
                    bound: int = SIDE_MAX) -> None:
    """Receipts of ``product`` through the API one after another until ``stop``: (start, seconds,
    status) of each. Over HTTP, so the postings run in gunicorn's processes, as in production, and this thread
    holds the bench process's GIL only to send and read them."""
    body = {"kind": "receipt", "product": product, "location": location, "quantity": "1", "unit_cost": "1.00"}
    while not stop.is_set() and len(postings) < bound:
        started = time.monotonic()
        status, _, seconds = request(bench.app_url + MOVEMENTS, token=bench.clerk_token, method="POST", body=body)
        postings.append((started, seconds, status))
        time.sleep(SIDE_PAUSE)


def _watch_locks(bench: Bench, stop: threading.Event, seen: list[tuple]) -> None:
    """Every lock some backend waits for, polled until ``stop``."""
    with bench.connection() as conn, conn.cursor() as cursor:
        while not stop.is_set():
            cursor.execute(LOCK_WAITS)
            seen.extend(cursor.fetchall())
            time.sleep(LOCK_POLL)


def _rebuild(bench: Bench, events: int) -> list[Row]:
    ceiling = _stream_rate(bench, events)
    started = time.monotonic()
    valuation_rebuild()
    seconds = time.monotonic() - started
    rate = events / seconds
    stock = bench.details.get("rebuild", {})
    stock_rate = stock["events"] / stock["seconds"] if stock.get("seconds") else None
    bench.details["valuation"] = {"events": events, "rebuild_seconds": seconds}
    rows = [Row("valuation", "rebuild events/s", rate, "/s", ceiling, "its events' stream alone", note=f"{events:,} events in {seconds:.1f} s")]
    if stock_rate:
        rows.append(Row("valuation", "rebuild events/s", rate, "/s", stock_rate, "stock rebuild (5), this run"))
    return rows


def _as_of(bench: Bench, middle: datetime) -> Row:
    with bench.connection() as conn, conn.cursor() as cursor:
        started = time.monotonic()
        cursor.execute(AS_OF_GROUP_BY, [middle])
        ceiling = time.monotonic() - started
    started = time.monotonic()
    lines = valuation_on_hand(as_of=middle, group_by="product")
    seconds = time.monotonic() - started
    bench.details["valuation"]["as_of_seconds"] = seconds
    return Row("valuation", "as of a date, every product", seconds, "s", ceiling, "GROUP BY of the entries",
               note=f"{len(lines):,} products as of {middle:%Y-%m-%d}")


def _backdated(bench: Bench) -> list[Row]:
    """A product of its own, with a long history, then a receipt dated before all of it."""
    count = bench.sizes.valuation_product_events
    product = Product.objects.create(sku="BENCH-VALUATION", name="The backdated receipt's product", valuation_method="fifo").pk
    locations = bench.locations[:1] + bench.locations[-1:]  # the first and the last warehouse's
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    started = time.monotonic()
    data.post_in_batches(bench.clerk, _one_product_history(bench, product, locations, count, start))
    posting_seconds = time.monotonic() - started
    started = time.monotonic()
    valuation_catch_up()
    first_seconds = time.monotonic() - started

    warmup: list[tuple[float, float, int]] = []
    _post_meanwhile(bench, bench.products[-1], bench.locations[1], threading.Event(), warmup, bound=SIDE_WARMUP)
    stop, postings, waits = threading.Event(), [], []
    side = threading.Thread(target=_post_meanwhile, args=(bench, bench.products[-1], bench.locations[1], stop, postings))
    watcher = threading.Thread(target=_watch_locks, args=(bench, stop, waits))
    side.start()
    time.sleep(BASELINE_SECONDS)
    body = {"kind": "receipt", "product": product, "location": locations[0], "quantity": "5", "unit_cost": "0.50",
            "occurred_at": start.isoformat()}
    movement_post(user=bench.clerk, movement=parse_movement(body))  # committed: from here it is the worker's
    committed = time.monotonic()
    watcher.start()
    revalued = valuation_catch_up()
    settle = time.monotonic() - committed
    stop.set()
    side.join()
    watcher.join()

    refused = [status for _, _, status in warmup + postings if status != 201]
    if refused:
        raise RuntimeError(f"{len(refused)} of {len(postings)} side postings were refused: {sorted(set(refused))}")
    before = [took for at, took, _ in postings if at < committed]
    meanwhile = [took for at, took, _ in postings if committed <= at < committed + settle]
    bench.details["valuation"].update({
        "product_events": count, "product_posting_seconds": posting_seconds, "product_first_catch_up_seconds": first_seconds,
        "settle_seconds": settle, "settle_events_applied": revalued, "side_postings_before": before,
        "side_postings_meanwhile": meanwhile, "lock_waits": sorted(set(waits)),
    })
    rows = [Row("valuation", "backdated receipt settles", settle, "s", first_seconds, "valuing its events the first time",
                note=f"a product of {count:,} events (posted in {posting_seconds:.1f} s) re-valued from its first")]
    if meanwhile and before:
        rows.append(Row("valuation", "slowest posting meanwhile", max(meanwhile) * 1000, "ms", max(before) * 1000,
                        "the slowest of the second before",
                        note=f"{len(meanwhile)} postings of another product while it re-valued (median {percentile(meanwhile, 50) * 1000:.1f} "
                        f"ms), {len(before)} before (median {percentile(before, 50) * 1000:.1f} ms); "
                        f"{len(waits)} lock waits seen meanwhile (pg_locks every {LOCK_POLL * 1000:.0f} ms)"))
    return rows


def run(bench: Bench) -> list[Row]:
    with bench.connection() as conn:
        events = scalar(conn, "SELECT count(*) FROM ledger_movement")
        first, last = scalar(conn, "SELECT min(occurred_at) FROM ledger_movement"), scalar(conn, "SELECT max(occurred_at) FROM ledger_movement")
    rows = _rebuild(bench, events)
    rows.append(_as_of(bench, first + (last - first) / 2))
    return rows + _backdated(bench)
