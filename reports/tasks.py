"""Celery tasks of the reports: thin wrappers around the services."""
from celery import shared_task

from .exports import export_run


@shared_task(name="reports.export_report")
def export_report(job_id: int) -> None:
    """Write one export job's file (``exports.export_run``)."""
    export_run(job_id=job_id)
