"""Scenario 5, rebuild: ``projections_rebuild()`` over the whole ledger. Ceiling: one plain
``GROUP BY`` of the events into a fresh table (the balances a rebuild must at least compute)."""
import time

from projections.services import projections_rebuild

from .. import targets
from ..context import Bench
from ..db import scalar
from ..report import Row

GROUP_BY = """
CREATE TEMPORARY TABLE bench_balances AS
SELECT product_id, location_id, sum(delta) AS quantity FROM ledger_movement GROUP BY product_id, location_id
"""


def run(bench: Bench) -> list[Row]:
    with bench.connection() as connection, connection.cursor() as cursor:
        events = scalar(connection, "SELECT count(*) FROM ledger_movement")
        started = time.monotonic()
        cursor.execute(GROUP_BY)
        ceiling = events / (time.monotonic() - started)
    started = time.monotonic()
    replayed = projections_rebuild()
    seconds = time.monotonic() - started
    rate = events / seconds
    bench.details["rebuild"] = {"events": events, "seconds": seconds, "replayed": replayed}
    met = rate >= targets.REBUILD_RATE and rate >= targets.REBUILD_SHARE_OF_GROUP_BY * ceiling
    return [
        Row("rebuild", "events/s", rate, "/s", ceiling, "GROUP BY",
            f">= {targets.REBUILD_RATE:,}/s and >= {targets.REBUILD_SHARE_OF_GROUP_BY:.0%} of GROUP BY", met,
            note=f"{events:,} events, {len(replayed)} projections"),
    ]
