"""The ledger's own metrics, counted where postings happen and read at ``/metrics`` (``ops``).

Under gunicorn they are kept in prometheus_client's multiprocess files (``PROMETHEUS_MULTIPROC_DIR``),
so every worker's counts add up at a scrape. Gauges of state (the head, the projections' lag) are
not here: ``ops`` reads them from the database when scraped, whichever process changed them.
"""
from prometheus_client import Counter, Histogram

MOVEMENTS_POSTED = Counter("wms_movements_posted", "Movements appended to the ledger, by kind.", ["kind"])
POSTING_REFUSALS = Counter("wms_posting_refusals", "Posting requests refused, by the error's code.", ["code"])
POSTING_DURATION = Histogram(
    "wms_posting_duration_seconds", "Time to answer a posting request, by endpoint (movement, batch, reversal).",
    ["endpoint"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BATCH_SIZE = Histogram(
    "wms_posting_batch_size", "Movements per posting (1 for a single movement or a reversal).",
    buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 100000),
)


def count_posted(kinds: list[str], size: int) -> None:
    """A posting of ``size`` movements committed; ``kinds`` are those it appended (not replayed)."""
    BATCH_SIZE.observe(size)
    for kind in kinds:
        MOVEMENTS_POSTED.labels(kind).inc()
