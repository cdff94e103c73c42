"""Celery tasks: thin wrappers around the services, and the hook that queues a catch-up."""
from celery import shared_task

from common.catch_up import CatchUpQueue

from . import services


@shared_task(name="projections.catch_up")
def catch_up() -> dict[str, int]:
    QUEUE.started()
    return services.projections_catch_up()


@shared_task(name="projections.rebuild")
def rebuild_projections() -> dict[str, int]:
    """Queued by ``manage.py rebuild_projections --queue``: a rebuild runs where the catch-ups run."""
    return services.projections_rebuild()


QUEUE = CatchUpQueue("projections", catch_up)
schedule_catch_up = QUEUE.schedule  # connected to movements_committed (apps.py)
