"""Celery tasks: thin wrappers around the services, and the hook that queues a catch-up after a
posting commits (the projections' way: ``projections.tasks``)."""
import logging
import time

from celery import shared_task
from django.core.cache import cache

from . import services

logger = logging.getLogger(__name__)

PENDING_KEY = "valuation:catch-up-pending"
PENDING_TTL = 60
GATHER_SECONDS = 0.2
BACKOFF_SECONDS = 5.0

_queued_here_at = {"at": float("-inf")}
_failed_at = {"at": float("-inf")}


@shared_task(name="valuation.catch_up")
def catch_up() -> int | str:
    cache.delete(PENDING_KEY)
    return services.valuation_catch_up_or_record()


@shared_task(name="valuation.rebuild")
def rebuild_valuation() -> int:
    return services.valuation_rebuild()


def schedule_catch_up(**_signal_kwargs) -> None:
    """After a posting commits, make sure a valuation catch-up will start after it (once per
    gathering window; eagerly in the embedded mode). Redis down: the posting stands, the beat
    catches up later."""
    now = time.monotonic()
    if catch_up.app.conf.task_always_eager:
        catch_up.apply()
        return
    if now - _queued_here_at["at"] < GATHER_SECONDS or now - _failed_at["at"] < BACKOFF_SECONDS:
        return
    try:
        if cache.add(PENDING_KEY, 1, PENDING_TTL):
            try:
                catch_up.apply_async(countdown=GATHER_SECONDS)
            except Exception:
                cache.delete(PENDING_KEY)
                raise
            _queued_here_at["at"] = now
    except Exception:
        _failed_at["at"] = now
        logger.warning("could not queue a valuation catch-up; retrying in %.0f s", BACKOFF_SECONDS, exc_info=True)
