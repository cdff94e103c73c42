"""Celery tasks: thin wrappers around the services, and the hook that queues a catch-up."""
import logging
import time

from celery import shared_task
from django.core.cache import cache

from . import services

logger = logging.getLogger(__name__)

PENDING_KEY = "projections:catch-up-pending"
PENDING_TTL = 60  # seconds; a lost message only delays the next catch-up (the beat runs anyway)
# A catch-up starts this long after the posting that queued it, so that under load one run
# applies the postings of that moment together instead of one run each.
GATHER_SECONDS = 0.2
# Redis (cache and broker) is not the source of truth: while it is unreachable, postings go on and
# stop trying to queue catch-ups for this long after a failure; the beat catches up once it is back.
BACKOFF_SECONDS = 5.0

_queued_here_at = {"at": float("-inf")}
_failed_at = {"at": float("-inf")}


@shared_task(name="projections.catch_up")
def catch_up() -> dict[str, int]:
    cache.delete(PENDING_KEY)  # postings from now on queue a fresh run
    return services.projections_catch_up()


@shared_task(name="projections.rebuild")
def rebuild_projections() -> dict[str, int]:
    """Queued by ``manage.py rebuild_projections --queue``: a rebuild runs where the catch-ups run."""
    return services.projections_rebuild()


def schedule_catch_up(**_signal_kwargs) -> None:
    """After a posting commits, make sure a catch-up will start after it.

    A run this process queued less than ``GATHER_SECONDS`` ago cannot have started (it waits that
    long), so it will see this posting: no need to ask the shared cache. Otherwise queue one,
    unless one is queued and not yet started (the pending flag, which a run clears as it starts).
    Run eagerly (the embedded default), a queued run has already finished: always run again.
    """
    now = time.monotonic()
    eager = catch_up.app.conf.task_always_eager
    if eager:
        catch_up.apply()
        return
    if now - _queued_here_at["at"] < GATHER_SECONDS or now - _failed_at["at"] < BACKOFF_SECONDS:
        return
    try:
        if cache.add(PENDING_KEY, 1, PENDING_TTL):
            _queue_catch_up()
            _queued_here_at["at"] = now
    except Exception:  # Redis down or unreachable: the posting stands; say so once per back-off
        _failed_at["at"] = now
        logger.warning("could not queue a projection catch-up; retrying in %.0f s", BACKOFF_SECONDS, exc_info=True)


def _queue_catch_up() -> None:
    try:
        catch_up.apply_async(countdown=GATHER_SECONDS)
    except Exception:
        cache.delete(PENDING_KEY)  # nothing is queued: let the next posting try again
        raise
