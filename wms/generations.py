"""Process-local memos that every process drops soon after a change anywhere.

A change moves a "generation" counter on in the shared cache (Redis in production); each process
reads the counter at most once per ``interval`` and forgets its memo when it moved. The changing
process forgets at once. Used where a hot path reads data that changes rarely (who holds which
token, which products are active).
"""
import time

from django.core.cache import cache


class Generation:
    def __init__(self, key: str, *, interval: float = 1.0):
        self.key = key
        self.interval = interval
        self.memo: dict = {}
        self._seen: int | None = None
        self._seen_at = 0.0

    def current(self) -> int:
        """The shared generation, re-read at most once per interval; the memo is kept only within one."""
        now = time.monotonic()
        if self._seen is None or now - self._seen_at > self.interval:
            cache.add(self.key, 1, timeout=None)
            seen = cache.get(self.key, 1)
            if seen != self._seen:
                self.memo.clear()
            self._seen, self._seen_at = seen, now
        return self._seen

    def bump(self, **_signal_kwargs) -> None:
        """Something changed: forget here at once, elsewhere within the interval."""
        self.memo.clear()
        self._seen = None
        try:
            cache.incr(self.key)
        except ValueError:  # no counter yet: nothing was memoized under one either
            cache.add(self.key, 1, timeout=None)
