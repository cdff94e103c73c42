"""Queuing a read side's catch-up after a posting commits: the same way for each of them (the
stock projections, the valuation), each with its own task and pending flag."""
import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

PENDING_TTL = 60  # seconds; a lost message only delays the next catch-up (the beat runs anyway)
# A catch-up starts this long after the posting that queued it, so that under load one run
# applies the postings of that moment together instead of one run each.
GATHER_SECONDS = 0.2
# Redis (cache and broker) is not the source of truth: while it is unreachable, postings go on and
# stop trying to queue catch-ups for this long after a failure; the beat catches up once it is back.
BACKOFF_SECONDS = 5.0
# Clocks of the processes that queue a run and of the worker that runs it may differ by this much.
CLOCK_SKEW_SECONDS = 0.05


class CatchUpQueue:
    """Makes sure a run of ``task`` (a Celery task) starts after each posting, asking the shared
    cache as rarely as will do.

    A run is queued to start ``GATHER_SECONDS`` after it is queued; the pending flag (which a run
    clears as it starts: ``started``) holds that start time. Until then the run cannot have started,
    so it will see every posting committed before it: a process that queued it, or found its flag,
    asks the cache nothing more until its start time (less ``CLOCK_SKEW_SECONDS``). Otherwise it
    reads the flag, and if none is set, sets it and queues a run. Run eagerly (the embedded default), a
    queued run has already finished: always run again.
    """

    def __init__(self, name: str, task):
        self.name, self.task = name, task
        self.pending_key = f"{name}:catch-up-pending"
        self._quiet_until = self._failed_at = float("-inf")  # monotonic times

    def started(self) -> None:
        """Called by the run as it starts: postings from now on queue a fresh one."""
        cache.delete(self.pending_key)

    def schedule(self, **_signal_kwargs) -> None:
        """The receiver of ``movements_committed``."""
        if self.task.app.conf.task_always_eager:
            self.task.apply()
            return
        now = time.monotonic()
        if now < self._quiet_until or now - self._failed_at < BACKOFF_SECONDS:
            return
        try:
            starts_at = cache.get(self.pending_key)  # under load, mostly there: one round trip
            if starts_at is None:
                starts_at = time.time() + GATHER_SECONDS
                if cache.add(self.pending_key, starts_at, PENDING_TTL):
                    self._queue()
                else:  # another process's, just set (None again: it has just started, after this commit)
                    starts_at = cache.get(self.pending_key) or 0.0
            self._quiet_until = now + starts_at - time.time() - CLOCK_SKEW_SECONDS
        except Exception:  # Redis down or unreachable: the posting stands; say so once per back-off
            self._failed_at = now
            logger.warning("could not queue a %s catch-up; retrying in %.0f s", self.name, BACKOFF_SECONDS, exc_info=True)

    def _queue(self) -> None:
        try:
            self.task.apply_async(countdown=GATHER_SECONDS)
        except Exception:
            cache.delete(self.pending_key)  # nothing is queued: let the next posting try again
            raise
