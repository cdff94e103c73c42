"""Export jobs: a finance report written to a CSV or XLSX file by a worker, for ranges too large to
wait for over HTTP. ``export_start`` records the job and queues it once committed; ``export_run``
(the task's body) works the report out, writes it, saving ``done``/``total`` as it goes, and keeps
the file on the job (or the error)."""
import io
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from . import finance
from .finance_files import WRITERS
from .finance_serializers import QUERIES, finance_json
from .models import ExportJob

logger = logging.getLogger(__name__)


def export_filename(report: finance.FinanceReport, format: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    return f"finance-{report.report}-{report.group_by}_{stamp}.{format}"


def export_write(*, report: str, format: str, parameters: dict, out, progress=None) -> finance.FinanceReport:
    """Work ``report`` out for its query ``parameters`` (strings, as the API takes them; a
    ``ValidationError`` if bad) and write it as ``format`` into the binary file ``out``."""
    query = QUERIES[report](data=parameters)
    query.is_valid(raise_exception=True)
    made = finance.finance_report(report, query.validated_data)
    WRITERS[format](finance_json(made), out, progress)
    return made


@transaction.atomic
def export_start(*, user, report: str, format: str, parameters: dict) -> ExportJob:
    """Record an export and queue it for a worker once committed (at once with eager Celery)."""
    from .tasks import export_report

    job = ExportJob.objects.create(report=report, format=format, parameters=parameters, requested_by=user)
    transaction.on_commit(partial(export_report.delay, job.pk))
    return job


def export_run(*, job_id: int) -> None:
    """Run a pending export: running, then done with its file, or failed with the error."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.PENDING).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now())
    if not claimed:
        return  # already run (a redelivered message)
    job = ExportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(done=done, total=total)

    out = io.BytesIO()
    try:
        made = export_write(report=job.report, format=job.format, parameters=job.parameters, out=out, progress=progress)
    except Exception as error:  # the job says why; the worker goes on
        ExportJob.objects.filter(pk=job_id).update(state=ExportJob.State.FAILED, error=f"{type(error).__name__}: {error}",
                                                   finished_at=timezone.now())
        logger.exception("export %s failed", job_id)
        return
    content = out.getvalue()
    ExportJob.objects.filter(pk=job_id).update(
        state=ExportJob.State.DONE, content=content, size=len(content), filename=export_filename(made, job.format),
        finished_at=timezone.now())
