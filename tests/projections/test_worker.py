"""A real Celery worker, with the local Redis as broker, keeps the projections up to date."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from projections.models import ProductLocationStock
from wms.celery import app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REDIS_URL = os.environ.get("WMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


def _forget_broker_connections():
    """Drop the producer pool, which remembers the broker it was made for."""
    if app._pool is not None:
        app._pool.force_close_all()
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


def test_a_real_worker_updates_the_projection_after_a_posting(celery_worker_process, post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="7")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = ProductLocationStock.objects.filter(product=product, location=bins[0]).first()
        if row is not None and row.quantity == 7:
            break
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not update the projection within 60 s")
