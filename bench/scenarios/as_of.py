"""Scenario 6, as-of: random (product, moment) stock queries through the API, one after another
(``GET /stock/as-of/?product=&at=`` as the auditor). Ceiling: the indexed plain-SQL sum of the
product's events up to the same moment, the same queries, over psycopg2."""
import random
import time
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


def run(bench: Bench) -> list[Row]:
    rng = random.Random(bench.rng.random())
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT min(occurred_at), max(occurred_at), count(*) FROM ledger_movement")
        earliest, latest, events = cursor.fetchone()
        queries = [(rng.choice(bench.products), earliest + (latest - earliest) * rng.random())
                   for _ in range(bench.sizes.as_of_queries)]
        ceiling = []
        for product, moment in queries:
            started = time.perf_counter()
            cursor.execute(PLAIN_SUM, [product, moment])
            cursor.fetchone()
            ceiling.append(time.perf_counter() - started)
    url = bench.app_url + "/api/v1/stock/as-of/?"
    ours, failed = [], 0
    for index, (product, moment) in enumerate(queries[:WARMUP] + queries):
        status, _, seconds = request(url + urlencode({"product": product, "at": moment.isoformat()}),
                                     token=bench.auditor_token, timeout=60)
        if index >= WARMUP:
            ours.append(seconds)
            failed += status != 200
    p50, p99 = percentile(ours, 50) * 1000, percentile(ours, 99) * 1000
    bench.details["as-of"] = {"queries": len(ours), "failed": failed, "events": events}
    note = f"{len(ours):,} queries over {events:,} events"
    if events < targets.AS_OF_LEDGER_EVENTS:
        note += f"; the target is set on {targets.AS_OF_LEDGER_EVENTS:,} (--large)"
    if failed:
        note += f"; {failed} answered other than 200"
    return [
        Row("as-of", "p50 latency", p50, "ms", percentile(ceiling, 50) * 1000, "indexed SQL sum",
            f"<= {targets.AS_OF_P50_MS} ms on {targets.AS_OF_LEDGER_EVENTS / 1e6:g}M events",
            p50 <= targets.AS_OF_P50_MS and not failed, note=note),
        Row("as-of", "p99 latency", p99, "ms", percentile(ceiling, 99) * 1000, "indexed SQL sum"),
    ]
