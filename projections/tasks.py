"""Celery tasks: thin wrappers around the services, and the hook that queues a catch-up."""
import time

from celery import shared_task
from django.core.cache import cache

from . import services

PENDING_KEY = "projections:catch-up-pending"
PENDING_TTL = 60  # seconds; a lost message only delays the next catch-up (the beat runs anyway)
# A catch-up starts this long after the posting that queued it, so that under load one run
# applies the postings of that moment together instead of one run each.
GATHER_SECONDS = 0.2

_queued_here_at = {"at": float("-inf")}


@shared_task(name="projections.catch_up")
def catch_up() -> dict[str, int]:
    cache.delete(PENDING_KEY)  # postings from now on queue a fresh run
    return services.projections_catch_up()


@shared_task(name="projections.rebuild")
def rebuild() -> dict[str, int]:
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
    if not eager and now - _queued_here_at["at"] < GATHER_SECONDS:
        return
    if cache.add(PENDING_KEY, 1, PENDING_TTL):
        catch_up.apply_async(countdown=GATHER_SECONDS)
        if not eager:
            _queued_here_at["at"] = now
