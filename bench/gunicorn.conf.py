"""The one gunicorn configuration for both the product and the bare DRF ceiling, so the two
differ only in the application they serve. Sync workers, as the README deploys; 3 on 2 cores
keep a core busy while another worker waits on PostgreSQL."""
import os

from common.gunicorn import forget_worker_metrics, prepare_metrics_directory

workers = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
worker_class = "common.gunicorn.JsonErrorsWorker"  # sync, with gunicorn's own refusals as JSON
timeout = 60
graceful_timeout = 10
accesslog = None
loglevel = "warning"
# Metrics as in production (deploy/gunicorn.conf.py): multiprocess files, reset at start.
on_starting = prepare_metrics_directory
child_exit = forget_worker_metrics
