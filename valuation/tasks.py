"""Celery tasks: thin wrappers around the services, and the hook that queues a catch-up after a
posting commits (``common.catch_up``, as the projections do)."""
from celery import shared_task

from common.catch_up import CatchUpQueue

from . import services


@shared_task(name="valuation.catch_up")
def catch_up() -> int | str:
    QUEUE.started()
    return services.valuation_catch_up_or_record()


@shared_task(name="valuation.rebuild")
def rebuild_valuation() -> int:
    return services.valuation_rebuild()


QUEUE = CatchUpQueue("valuation", catch_up)
schedule_catch_up = QUEUE.schedule  # connected to movements_committed (apps.py)
