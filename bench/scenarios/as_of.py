"""Scenario 6, as-of: random stock queries of a product through the API, one after another, as the
auditor. First by business time (``GET /stock/as-of/?product=&at=``); ceiling: the indexed plain-SQL
sum of the product's events up to the same moment, over psycopg2. Then bitemporal, what the books
said at a record time about a business time (``&at=&recorded_at=``, the record time that of a
random position, so the queries spread over the ledger as it grew); ceiling: the same sum with
both bounds in its WHERE clause. Each bitemporal answer must equal its ceiling's sum."""
import json
import random
import time
from decimal import Decimal
from urllib.parse import urlencode

from .. import targets
from ..context import Bench
from ..loadgen import request
from ..report import Row
from ..stats import percentile

WARMUP = 10
PLAIN_SUM = """
SELECT coalesce(sum(delta) FILTER (WHERE to_location_id IS NULL), 0)
  FROM ledger_movement WHERE product_id = %s AND occurred_at <= %s
"""
PLAIN_BITEMPORAL_SUM = PLAIN_SUM + " AND recorded_at <= %s"


def _timed(cursor, sql: str, queries: list[tuple]) -> tuple[list[float], list[Decimal]]:
    """Run ``sql`` once per query: (seconds each, the sums)."""
    seconds, sums = [], []
    for params in queries:
        started = time.perf_counter()
        cursor.execute(sql, params)
        (total,) = cursor.fetchone()
        seconds.append(time.perf_counter() - started)
        sums.append(total)
    return seconds, sums


def _through_api(bench: Bench, params: list[dict]) -> tuple[list[float], list[tuple[int, bytes]]]:
    """GET each query, after ``WARMUP`` of them not counted: (seconds each, (status, body) each)."""
    url = bench.app_url + "/api/v1/stock/as-of/?"
    seconds, answers = [], []
    for index, query in enumerate(params[:WARMUP] + params):
        status, body, took = request(url + urlencode(query), token=bench.auditor_token, timeout=60)
        if index >= WARMUP:
            seconds.append(took)
            answers.append((status, body))
    return seconds, answers


def _rows(metric: str, ours: list[float], ceiling: list[float], label: str, target_ms: float, failed: int,
          note: str) -> list[Row]:
    p50 = percentile(ours, 50) * 1000
    if failed:
        note += f"; {failed} answered other than 200 (or, bitemporal, other than the ceiling's sum)"
    return [
        Row("as-of", f"{metric}p50 latency", p50, "ms", percentile(ceiling, 50) * 1000, label,
            f"<= {target_ms} ms on {targets.AS_OF_LEDGER_EVENTS / 1e6:g}M events", p50 <= target_ms and not failed,
            note=note),
        Row("as-of", f"{metric}p99 latency", percentile(ours, 99) * 1000, "ms", percentile(ceiling, 99) * 1000, label),
    ]


def run(bench: Bench) -> list[Row]:
    rng = random.Random(bench.rng.random())
    count = bench.sizes.as_of_queries
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT min(occurred_at), max(occurred_at), max(position) FROM ledger_movement")
        earliest, latest, events = cursor.fetchone()
        moments = [(rng.choice(bench.products), earliest + (latest - earliest) * rng.random()) for _ in range(2 * count)]
        queries, bitemporal = moments[:count], []
        for product, moment in moments[count:]:
            cursor.execute("SELECT recorded_at FROM ledger_movement WHERE position = %s", [rng.randint(1, events)])
            bitemporal.append((product, moment, cursor.fetchone()[0]))
        ceiling, _ = _timed(cursor, PLAIN_SUM, queries)
        bitemporal_ceiling, sums = _timed(cursor, PLAIN_BITEMPORAL_SUM, bitemporal)

    ours, answers = _through_api(bench, [{"product": p, "at": at.isoformat()} for p, at in queries])
    failed = sum(status != 200 for status, _ in answers)
    bitemporal_ours, bitemporal_answers = _through_api(
        bench, [{"product": p, "at": at.isoformat(), "recorded_at": recorded.isoformat()} for p, at, recorded in bitemporal]
    )
    bitemporal_failed = sum(
        status != 200 or Decimal(json.loads(body)["quantity"]) != total
        for (status, body), total in zip(bitemporal_answers, sums, strict=True)
    )
    bench.details["as-of"] = {"queries": len(ours), "failed": failed, "events": events,
                              "bitemporal_queries": len(bitemporal_ours), "bitemporal_failed": bitemporal_failed}
    note = f"{len(ours):,} queries over {events:,} events"
    if events < targets.AS_OF_LEDGER_EVENTS:
        note += f"; the target is set on {targets.AS_OF_LEDGER_EVENTS:,} (--large)"
    return [
        *_rows("", ours, ceiling, "indexed SQL sum", targets.AS_OF_P50_MS, failed, note),
        *_rows("bitemporal ", bitemporal_ours, bitemporal_ceiling, "SQL sum, both bounds", targets.BITEMPORAL_P50_MS,
               bitemporal_failed, note.replace("queries", "queries at=&recorded_at=", 1)),
    ]
