"""The Celery application: configured from Django settings (the ``CELERY_`` namespace)."""
import os

from celery import Celery, signals

from common import request_log

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wms.settings")

app = Celery("wms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A posting's request id follows it into the tasks it queues (common/request_log.py).
signals.before_task_publish.connect(request_log.publishing_task, weak=False)
signals.task_prerun.connect(request_log.task_started, weak=False)
signals.task_postrun.connect(request_log.task_finished, weak=False)


@signals.task_prerun.connect
def _drop_dead_database_connections(task=None, **_signal_kwargs) -> None:
    """The worker keeps its database connection between tasks (``CELERY_DB_REUSE_MAX``); one the
    server closed meanwhile (a restart) is dropped before the next task, as Django does before each
    request, instead of failing every task until the connection is recycled. (Eager tasks run
    inside a request, which has done this already.)"""
    from django.db import connections

    if task is not None and task.request.is_eager:
        return
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
