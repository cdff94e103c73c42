"""One log line per request, and the request id on every line logged while serving it.

The id is the proxy's ``X-Request-ID`` when it is a sane token (nginx's ``$request_id``), else a new
one; it goes back in the response's ``X-Request-ID``, onto every log record made meanwhile (the
``RequestIdFilter``), and into the Celery tasks the request queues (their message carries it, and
the worker's records while running the task carry it too: ``wms/celery.py`` wires the signals).

The request's line says who asked what and how it ended: method, path, status, duration, user,
and what the view added (a posting: the positions it wrote). A refusal (4xx) is INFO, a server
error ERROR (its traceback is logged where it is caught). Probes and scrapes are answered before
this middleware (``ops.middleware``), so they do not drown the rest.
"""
import logging
import re
import time
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy sends (nginx's $request_id, a UUID, a trace id): a short token, nothing a log line
# or a header could be bent with.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
logger = logging.getLogger("wms.request")


def request_id_for(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request's (or task's) id on every record, ``-`` outside of one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        return True


class RequestLogMiddleware:
    """First in ``MIDDLEWARE``: gives the request its id, logs its line once it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request)
        token = current_request_id.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            self._log(request, response, time.perf_counter() - started)
            return response
        finally:
            current_request_id.reset(token)

    @staticmethod
    def _log(request, response, seconds: float) -> None:
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        if not logger.isEnabledFor(level):
            return
        user = getattr(request, "user", None)
        fields = {
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "user": user.get_username() if user is not None and user.is_authenticated else None,
            **getattr(response, "log_context", {}),
        }
        logger.log(level, "%s %s %s %.1f ms", request.method, request.path, status, seconds * 1000, extra=fields)


def publishing_task(headers: dict, **_signal_kwargs) -> None:
    """``before_task_publish``: the task's message carries the request id."""
    request_id = current_request_id.get()
    if request_id is not None:
        headers.setdefault("request_id", request_id)


def task_started(task=None, **_signal_kwargs) -> None:
    """``task_prerun``: the worker's records while it runs carry the id the message brought."""
    if task is not None and not task.request.is_eager:
        task.request.request_id_token = current_request_id.set(getattr(task.request, "request_id", None))


def task_finished(task=None, **_signal_kwargs) -> None:
    """``task_postrun``."""
    token = getattr(task.request, "request_id_token", None) if task is not None else None
    if token is not None:
        current_request_id.reset(token)
