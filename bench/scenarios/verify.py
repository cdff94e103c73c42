"""Scenario 7, verify: ``ledger_verify()`` over the whole hash chain. Ceiling: streaming the same
columns in the same order through a server-side cursor and doing nothing else with them."""
import time

from ledger import chain
from ledger.verification import ledger_verify

from .. import targets
from ..context import Bench
from ..report import Row

ITERSIZE = 50_000


def _stream(bench: Bench) -> int:
    with bench.connection(autocommit=False) as connection, connection.cursor(name="bench_stream") as cursor:
        cursor.itersize = ITERSIZE
        cursor.execute(f"SELECT {', '.join(chain.CHAINED_FIELDS)}, hash FROM ledger_movement ORDER BY position")
        return sum(1 for _ in cursor)


def run(bench: Bench) -> list[Row]:
    started = time.monotonic()
    streamed = _stream(bench)
    ceiling = streamed / (time.monotonic() - started)
    started = time.monotonic()
    report = ledger_verify()
    seconds = time.monotonic() - started
    rate = report.events / seconds
    bench.details["verify"] = {**report.as_dict(), "seconds": seconds}
    return [
        Row("verify", "events/s", rate, "/s", ceiling, "server-side cursor stream",
            f">= {targets.VERIFY_RATE:,}/s", rate >= targets.VERIFY_RATE and report.intact,
            note=f"{report.events:,} events, {'intact' if report.intact else 'BROKEN: ' + str(report)}"),
    ]
