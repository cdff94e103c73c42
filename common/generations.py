"""Process-local memos that every process drops within a second of a committed change anywhere.

A hot path reads data that changes rarely (who holds which token, which products are active) and
remembers it per process. What makes such a memo stale is a change of the data it came from, made
by any process and by any means (admin, the API, the shell, ``QuerySet.update()``, raw SQL):
database triggers move a counter row (``common.models.Generation``) in the changing transaction,
so the move is visible exactly when the change is committed. Each process reads the counter at
most once per ``interval`` and forgets its memo when it moved; the changing process forgets at
once (and again when its transaction commits, so a read in between cannot keep the old data).

The counter lives in the database, not in a cache: a cache that restarts or is flushed would
start the counter again at a value every process has already seen, and a revocation made then
would go unnoticed.
"""
import time

from django.db import connection, transaction

from .models import Generation as GenerationRow

_COUNTER_SQL = f"SELECT value FROM {GenerationRow._meta.db_table} WHERE name = %s"


class Generation:
    def __init__(self, name: str, *, interval: float = 1.0):
        self.name = name
        self.interval = interval
        self.memo: dict = {}
        self._seen: int | None = None
        self._seen_at = 0.0

    def current(self) -> int:
        """The counter, re-read at most once per interval; the memo is kept only while it stands.
        Read before the data that goes into the memo, so the memo is never newer than its counter."""
        now = time.monotonic()
        if self._seen is None or now - self._seen_at > self.interval:
            with connection.cursor() as cursor:
                cursor.execute(_COUNTER_SQL, [self.name])
                row = cursor.fetchone()
            seen = row[0] if row else 0
            if seen != self._seen:
                self.memo.clear()
            self._seen, self._seen_at = seen, now
        return self._seen

    def forget(self, **_signal_kwargs) -> None:
        """This process changed what the memo holds: forget now, and again once it commits."""
        self._forget()
        transaction.on_commit(self._forget)

    def _forget(self) -> None:
        self.memo.clear()
        self._seen = None
