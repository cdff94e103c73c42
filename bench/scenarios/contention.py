"""Scenario 2, contention: the posting load aimed at a few product-locations with little stock,
receipts and issues mixed so that many issues must be refused. Then a check over the whole
ledger: no guard balance is negative, and each equals the ledger's sum for its pair."""
from dataclasses import asdict

from ..context import MOVEMENTS, Bench
from ..movements import CONTENDED
from ..report import Row
from .posting import load

# Each guard row beside the ledger's sum for its pair (delta at location_id, -delta at
# to_location_id), over every pair either side knows.
BALANCES_CHECK = """
WITH legs AS (
    SELECT product_id, location_id, delta AS change FROM ledger_movement
    UNION ALL
    SELECT product_id, to_location_id, -delta FROM ledger_movement WHERE to_location_id IS NOT NULL
), ledger AS (
    SELECT product_id, location_id, sum(change) AS quantity FROM legs GROUP BY product_id, location_id
)
SELECT count(*),
       count(*) FILTER (WHERE g.quantity < 0),
       count(*) FILTER (WHERE coalesce(g.quantity, 0) <> coalesce(l.quantity, 0))
  FROM ledger_stocklevel g FULL JOIN ledger l USING (product_id, location_id)
"""


def run(bench: Bench) -> list[Row]:
    result, _ = load(bench, bench.app_url + MOVEMENTS, bench.hot_path, CONTENDED, "contention", {})
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute(BALANCES_CHECK)
        pairs, negative, mismatched = cursor.fetchone()
    refused = result.statuses.get(409, 0)
    unclean = result.failed - refused
    bench.details["contention"] = {
        "wrk": asdict(result), "pairs": pairs, "negative": negative, "mismatched": mismatched,
    }
    return [
        Row("contention", "movements/s", result.rate, "/s", note=f"{len(bench.hot)} hot product-locations"),
        Row("contention", "refused with 409", result.share(refused), "%"),
        Row("contention", "other failures", result.share(unclean), "%", target="0", met=unclean == 0,
            note="" if not unclean else f"statuses {result.statuses}, socket errors {result.socket_errors}"),
        Row("contention", "balances check", f"{pairs:,} pairs, {negative} negative, {mismatched} off the ledger",
            target="0 negative, 0 off", met=negative == 0 and mismatched == 0),
    ]
