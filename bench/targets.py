"""The team's goals on a 2-core machine (issue 6). They are goals to report against, not
limits to tune: never weaken them here."""

POSTING_RATE = 1_000  # movements/s
POSTING_SHARE_OF_BARE = 0.70  # of the bare DRF endpoint's movements/s
POSTING_P99_MS = 50
BATCH_RATE = 50_000  # events/s
BATCH_SHARE_OF_COPY = 0.70  # of COPY of the same rows into a copy of the events table (issue 18)
REBUILD_RATE = 1_000_000  # events/s
REBUILD_SHARE_OF_GROUP_BY = 0.50
AS_OF_P50_MS = 20
BITEMPORAL_P50_MS = 20  # what the books said at a record time about a business time (issue 13)
AS_OF_LEDGER_EVENTS = 10_000_000  # the as-of targets are set on a ledger this big
VERIFY_RATE = 200_000  # events/s
LAG_P99_S = 1.0
