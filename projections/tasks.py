"""Celery tasks: thin wrappers around the services."""
from celery import shared_task
from django.core.cache import cache

from . import services

PENDING_KEY = "projections:catch-up-pending"
PENDING_TTL = 60  # seconds; a lost message only delays the next catch-up (the beat runs anyway)


@shared_task(name="projections.catch_up")
def catch_up() -> dict[str, int]:
    cache.delete(PENDING_KEY)  # postings from now on queue a fresh run
    return services.projections_catch_up()


@shared_task(name="projections.rebuild")
def rebuild() -> dict[str, int]:
    return services.projections_rebuild()


def schedule_catch_up(**_signal_kwargs) -> None:
    """Queue one catch-up after a posting commits, unless one is already queued."""
    if cache.add(PENDING_KEY, 1, PENDING_TTL):
        catch_up.delay()
