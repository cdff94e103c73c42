"""gunicorn's sync worker, answering what gunicorn itself refuses in the API's error body.

A request line longer than ``limit_request_line`` (414), headers past ``limit_request_fields`` or
``limit_request_field_size`` (431), a request that is not HTTP (400): gunicorn refuses these before
Django sees them, and writes its own HTML page with ``gunicorn.util.write_error``; it has no setting
for that body. This worker keeps gunicorn's choice of status, its logging and its access log, and
replaces only that function, in its own process (the master writes no error pages), so that those
answers are ``{"code", "detail"}`` JSON like every other error of the API.

Run it with ``gunicorn --worker-class common.gunicorn.JsonErrorsWorker wms.wsgi`` (or
``worker_class = "common.gunicorn.JsonErrorsWorker"`` in a configuration file).
"""
import json
import os
import shutil
import uuid

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

# gunicorn's status -> the API's code (the codes of common/api/errors.py where they exist).
CODES = {
    400: "malformed_request",
    403: "permission_denied",
    414: "request_too_large",
    417: "expectation_failed",
    431: "request_too_large",
    500: "server_error",
    501: "not_implemented",
}


class JsonErrorsWorker(SyncWorker):
    """``sync``, whose own error answers are JSON."""

    def init_process(self):
        util.write_error = self.write_json_error
        super().init_process()  # last: it runs the worker's loop

    def write_json_error(self, sock, status_int: int, reason: str, mesg: str) -> None:
        """``gunicorn.util.write_error``'s signature and framing, with the API's body."""
        body = json.dumps(self.error_body(status_int, reason, mesg), separators=(",", ":"))
        head = (
            f"HTTP/1.1 {status_int} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        )
        util.write_nonblock(sock, (head + body).encode("latin-1"))

    def error_body(self, status_int: int, reason: str, mesg: str) -> dict:
        cfg = self.cfg
        code = CODES.get(status_int, "bad_request")
        if status_int == 414:
            return {"code": code, "detail": f"The request line (method, path and query string) is longer than "
                                            f"the {cfg.limit_request_line:,} bytes the server reads."}
        if status_int == 431:
            return {"code": code, "detail": f"The request's headers are larger than the server reads: at most "
                                            f"{cfg.limit_request_fields} fields of "
                                            f"{cfg.limit_request_field_size:,} bytes each."}
        if status_int == 500:
            # The application failed outside Django's handling; gunicorn has just logged the
            # traceback, from this worker: the id goes on the next line of the same worker.
            request_id = uuid.uuid4().hex
            self.log.error("Internal server error, request id %s: the traceback is this worker's (pid %s) "
                           "record just above", request_id, os.getpid())
            return {"code": code, "detail": f"The server failed to answer this request. Quote request id "
                                            f"{request_id} when you report it.", "request_id": request_id}
        return {"code": code, "detail": f"{reason}: {mesg}" if mesg else f"{reason}."}


def prepare_metrics_directory(server) -> None:
    """``on_starting`` (the master, before any worker): prometheus_client's multiprocess files of
    a previous run are stale; start from an empty directory."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def forget_worker_metrics(server, worker) -> None:
    """``child_exit``: a worker that exited no longer reports live gauges (its counts stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
