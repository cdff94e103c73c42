"""A real Celery worker for the tests that need one (``celery_worker_process``), registered in
``tests/conftest.py``."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.db import connection
from kombu import pools

from wms.celery import app

REDIS_URL = os.environ.get("WMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[1]


def _forget_broker_connections():
    """Close and forget the broker connection and producer pools, which remember the broker they
    were made for: the app's and kombu's registry of them by broker (whose closed pool a second
    worker test on the same broker would be handed otherwise)."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_worker_process():
    """Start `celery worker` against this test database, on a Redis database of its own (emptied
    first), and send this process's tasks there."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}",
        "CELERY_BROKER_URL": REDIS_URL,
        "DJANGO_SECRET_KEY": "worker-under-test",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wms", "worker", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    _forget_broker_connections()
    try:
        yield worker
    finally:
        app.conf.update(saved)
        _forget_broker_connections()
        worker.terminate()
        output, _ = worker.communicate(timeout=20)
        print(output[-3000:])
