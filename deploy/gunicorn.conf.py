"""gunicorn in production (the image's entry point; deploy/compose.yaml). Every value can be set
from the environment; the defaults suit one container behind Nginx.

Metrics: with ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its counts there and any of
them answers ``/metrics`` with the sum; the master empties the directory at start and forgets a
worker's live gauges when it exits. Logs: gunicorn's own records are JSON lines like the app's;
its access log is off by default, because the app writes the richer line per request (request id,
user, positions posted: common/request_log.py). ``WMS_ACCESS_LOG=-`` turns it on (JSON, stdout).
"""
import multiprocessing
import os

from common.gunicorn import forget_worker_metrics, prepare_metrics_directory

# Every worker's counts in one directory, summed at /metrics (emptied at start: on_starting).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/wms-metrics")

bind = os.environ.get("WMS_BIND", "0.0.0.0:8000")
# Sync workers: a posting waits on PostgreSQL, so more workers than cores keep the cores busy.
# (In a container cpu_count() sees the host's cores: set WMS_WORKERS to the container's share.)
workers = int(os.environ.get("WMS_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "common.gunicorn.JsonErrorsWorker"  # sync, with gunicorn's own refusals as JSON
timeout = int(os.environ.get("WMS_TIMEOUT") or 60)  # a 5,000-movement batch takes about a second
graceful_timeout = 30  # on SIGTERM or a restart, requests in flight finish
keepalive = 5  # unused by sync workers; Nginx opens one upstream connection per request
# Graceful restarts: each worker is replaced after this many requests (jittered, so not all at once).
max_requests = int(os.environ.get("WMS_MAX_REQUESTS") or 10000)
max_requests_jitter = max_requests // 10
# The proxy's X-Forwarded-For/-Proto are trusted from these addresses only (Nginx's; in compose the
# app is reachable from the stack's network alone, so "*").
forwarded_allow_ips = os.environ.get("WMS_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("WMS_ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    }},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
on_starting = prepare_metrics_directory
child_exit = forget_worker_metrics
