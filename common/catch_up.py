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


class CatchUpQueue:
    """Makes sure a run of ``task`` (a Celery task) starts after each posting, queuing as few as will do.

    A run this process queued less than ``GATHER_SECONDS`` ago cannot have started (it waits that
    long), so it will see this posting: no need to ask the shared cache. Otherwise queue one,
    unless one is queued and not yet started (the pending flag, which a run clears as it starts:
    ``started``). Run eagerly (the embedded default), a queued run has already finished: always
    run again.
    """

    def __init__(self, name: str, task):
        self.name, self.task = name, task
        self.pending_key = f"{name}:catch-up-pending"
        self._queued_here_at = self._failed_at = float("-inf")

    def started(self) -> None:
        """Called by the run as it starts: postings from now on queue a fresh one."""
        cache.delete(self.pending_key)

    def schedule(self, **_signal_kwargs) -> None:
        """The receiver of ``movements_committed``."""
        if self.task.app.conf.task_always_eager:
            self.task.apply()
            return
        now = time.monotonic()
        if now - self._queued_here_at < GATHER_SECONDS or now - self._failed_at < BACKOFF_SECONDS:
            return
        try:
            if cache.add(self.pending_key, 1, PENDING_TTL):
                self._queue()
                self._queued_here_at = now
        except Exception:  # Redis down or unreachable: the posting stands; say so once per back-off
            self._failed_at = now
            logger.warning("could not queue a %s catch-up; retrying in %.0f s", self.name, BACKOFF_SECONDS, exc_info=True)

    def _queue(self) -> None:
        try:
            self.task.apply_async(countdown=GATHER_SECONDS)
        except Exception:
            cache.delete(self.pending_key)  # nothing is queued: let the next posting try again
            raise
