"""Scenario 1b, backdated: the posting load of scenario 1 again, right after it on the same small
ledger and the same gunicorn, but every movement dated in the past: at the moment just after
the pool's stock was posted during set-up (``Bench.pool_stocked_at``). At that business time
every pool product-location holds its stock, so no issue or transfer is refused for lack of it;
and each posting is dated before the movements that scenario 1's loads (dated now) added to its
product-location, so it must read them and check that no balance from its date on goes negative.

Ceiling: scenario 1's own figures of this run (a current posting), so the ratios say what
backdating costs. Queries per posting are counted in-process as in scenario 1, dated the same
way. How much history the postings read is counted in SQL at the end: the movements of each
posting's product-location(s) dated after its business time. Nothing dated after it is posted
meanwhile, so that is exactly what its history read returned.
"""
import re
from dataclasses import asdict
from datetime import datetime, timezone

from ..context import MOVEMENTS, Bench
from ..cpu import POSTGRES
from ..loadgen import WrkResult
from ..movements import STEADY
from ..report import Row
from .posting import count_queries, cpu_ms, load

TAG = "backdated"
CEILING = "current posting"

# Per posting of the timed run (its keys are TAG-<thread>-<n>), the movements dated after it at
# the product-location(s) it touched: a transfer reads both of its own.
HISTORY = """
WITH posted AS (
    SELECT position, product_id, location_id, to_location_id, occurred_at FROM ledger_movement
     WHERE user_id = %(user)s AND idempotency_key ~ %(keys)s
), legs AS (
    SELECT position, product_id, location_id AS at, occurred_at FROM posted
    UNION ALL
    SELECT position, product_id, to_location_id, occurred_at FROM posted WHERE to_location_id IS NOT NULL
), leg_reads AS (
    SELECT legs.position,
           (SELECT count(*) FROM ledger_movement m
             WHERE m.product_id = legs.product_id AND m.location_id = legs.at AND m.occurred_at > legs.occurred_at)
         + (SELECT count(*) FROM ledger_movement m
             WHERE m.product_id = legs.product_id AND m.to_location_id = legs.at AND m.occurred_at > legs.occurred_at)
           AS rows_read
      FROM legs
), reads AS (
    SELECT position, sum(rows_read) AS rows_read FROM leg_reads GROUP BY position
)
SELECT count(*), coalesce(avg(rows_read), 0)::float8, coalesce(max(rows_read), 0)::int,
       count(*) FILTER (WHERE rows_read > 0)
  FROM reads
"""


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the microsecond, as the API accepts it."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def history_read(bench: Bench) -> dict:
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute(HISTORY, {"user": bench.clerk.pk, "keys": f"^{TAG}-[0-9]"})
        postings, mean, most, reading = cursor.fetchone()
    return {"postings": postings, "mean": mean, "max": most, "reading": reading}


def plans(bench: Bench, queries: dict[str, list[str]]) -> list[str]:
    """The plans of the reads a backdated transfer ran (a current posting reads nothing), as
    captured: how the database finds the history, for the JSON."""
    reads = [q for q in queries.get("transfer", []) if q.lstrip().upper().startswith("SELECT")]
    found = []
    with bench.connection() as connection, connection.cursor() as cursor:
        for query in reads:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)
            found.append("\n".join(line for (line,) in cursor.fetchall()))
    return found


def scans(found: list[str]) -> str:
    """How the plans reach the ledger: the indexes they scan, and any sequential scan."""
    names = re.findall(r"(?:Index Scan|Index Only Scan) using (\S+)|Bitmap Index Scan on (\S+)|(Seq Scan on \S+)",
                       "\n".join(found))
    return ", ".join(dict.fromkeys(next(part for part in match if part) for match in names)) or "none captured"


def _counts(queries: dict[str, list[str]]) -> str:
    return ", ".join(f"{kind} {len(q)}" for kind, q in queries.items())


def run(bench: Bench) -> list[Row]:
    if bench.pool_stocked_at is None:
        raise RuntimeError("the moment the pool was stocked was not recorded")
    at = iso(bench.pool_stocked_at)
    ours, cpu = load(bench, bench.app_url + MOVEMENTS, bench.pool_path, STEADY, TAG, {"gunicorn": bench.app_pid},
                     occurred_at=at)
    queries = count_queries(bench, occurred_at=at, tag=f"queries-{TAG}")
    history = history_read(bench)
    found = plans(bench, queries)
    bench.details["backdated"] = {"occurred_at": at, "wrk": asdict(ours), "cpu_s": cpu, "queries": queries,
                                  "history": history, "plans": found}

    posting = bench.details.get("posting")  # scenario 1's figures of this run: the ceiling
    current = WrkResult(**posting["wrk"]) if posting else None
    current_cpu = posting["cpu_s"] if posting else None

    def ceiling(figure):
        return (figure(), CEILING) if current else (None, "")

    refused = ours.statuses.get(409, 0)
    failures = "" if not ours.failed else f"statuses {ours.statuses}, socket errors {ours.socket_errors}"
    dated = f"every movement dated {at}, just after the pool was stocked"
    if not current:
        dated += "; no ceiling: scenario 1 did not finish"
    read_note = (
        f"movements of its product-location(s) dated after its business time, from SQL at the end (what its "
        f"history read returned; a transfer reads both of its own); {history['reading']:,} of "
        f"{history['postings']:,} postings read any; a transfer's reads scan {scans(found)}"
    )
    queries_note = "counted in-process around one POST per kind, as in scenario 1; the SQL is in the JSON"
    if posting:
        queries_note = f"a current posting: {_counts(posting['queries'])}; " + queries_note
    return [
        Row("backdated", "movements/s", ours.rate, "/s", *ceiling(lambda: current.rate), note=dated),
        Row("backdated", "p50 latency", ours.p50_ms, "ms", *ceiling(lambda: current.p50_ms)),
        Row("backdated", "p99 latency", ours.p99_ms, "ms", *ceiling(lambda: current.p99_ms)),
        Row("backdated", "error share", ours.share(ours.failed), "%", note=failures),
        Row("backdated", "refused with 409", ours.share(refused), "%", target="0", met=refused == 0,
            note="" if not refused else f"{refused:,} refused: the business time should leave every pair stocked"),
        Row("backdated", "gunicorn CPU per posting", cpu_ms(cpu, "gunicorn", ours), "ms",
            *ceiling(lambda: cpu_ms(current_cpu, "gunicorn", current))),
        Row("backdated", "PostgreSQL CPU per posting", cpu_ms(cpu, POSTGRES, ours), "ms",
            *ceiling(lambda: cpu_ms(current_cpu, POSTGRES, current))),
        Row("backdated", "SQL queries per posting", _counts(queries), note=queries_note),
        Row("backdated", "history read per posting", f"{history['mean']:,.1f} movements (max {history['max']:,})",
            note=read_note),
    ]
