"""A production-mode stack of the test module's own: a PostgreSQL database, Redis (database 7 of
the local server), gunicorn from ``deploy/gunicorn.conf.py`` with two workers and multiprocess
metrics, and a Celery worker; all logging JSON lines to files the tests read."""
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from bench.db import Server, throwaway_database
from tests.live import HOST, ROOT, manage, serving, spare_port, stop

REDIS_URL = "redis://127.0.0.1:6379/7"
PORTS = range(18400, 18450)
SETUP = """
import json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from catalog.models import Location, Product, Warehouse
clerk = User.objects.create_user("clerk", password="x")
clerk.groups.add(Group.objects.get(name="clerk"))
warehouse = Warehouse.objects.create(code="OPS", name="ops")
print(json.dumps({
    "token": Token.objects.create(user=clerk).key,
    "product": Product.objects.create(sku="OPS-1", name="ops", unit="ea").pk,
    "locations": [Location.objects.create(warehouse=warehouse, code=c, name=c).pk for c in ("A", "B")],
}))
"""


@dataclass
class Stack:
    url: str
    env: dict
    token: str
    product: int
    locations: list[int]
    web_log: Path
    worker_log: Path
    metrics_dir: Path

    def post(self, body: dict, **headers) -> requests.Response:
        return requests.post(f"{self.url}/api/v1/movements/", json=body, timeout=30,
                             headers={"Authorization": f"Token {self.token}", **headers})

    def receipt(self, quantity="1", **headers) -> requests.Response:
        body = {"kind": "receipt", "product": self.product, "location": self.locations[0], "quantity": quantity}
        return self.post(body, **headers)

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics, by its name and labels as written."""
        text = requests.get(f"{self.url}/metrics", timeout=30).text
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    @staticmethod
    def lines(log: Path, since: int = 0) -> list[dict]:
        """Every line of a log from byte ``since`` on, each parsed as JSON (a line that is not JSON
        fails the test, quoting it)."""
        parsed = []
        for line in log.read_bytes()[since:].decode().splitlines():
            if line.strip():
                try:
                    parsed.append(json.loads(line))
                except ValueError:
                    pytest.fail(f"a log line that is not JSON in {log.name}: {line!r}")
        return parsed


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ops")
    server = Server.from_env()
    with throwaway_database(server, name=f"wms_ops_{uuid.uuid4().hex[:8]}") as database:
        yield from _stack(folder, server.url(database))


def _stack(folder: Path, database_url: str):
    redis.Redis.from_url(REDIS_URL).flushdb()
    port = spare_port(PORTS)
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WMS_", "PROMETHEUS_"))}
    env.update(
        DATABASE_URL=database_url, CELERY_BROKER_URL=REDIS_URL,
        DJANGO_SECRET_KEY=uuid.uuid4().hex, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0", WMS_LOG_FORMAT="json", WMS_BIND=f"{HOST}:{port}", WMS_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), DJANGO_SETTINGS_MODULE="wms.settings",
    )
    manage(env, "migrate", "--no-input")
    catalog = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    worker_log = folder / "worker.log"
    with worker_log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wms", "worker", "--pool", "solo", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        web_log = folder / "web.log"
        args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wms.wsgi"]
        with serving(args, env, web_log, ready=f"http://{HOST}:{port}/healthz"):
            wait_for(lambda: b"ready." in worker_log.read_bytes(), "the Celery worker to be ready", worker_log)
            yield Stack(f"http://{HOST}:{port}", env, catalog["token"], catalog["product"], catalog["locations"],
                        web_log, worker_log, metrics_dir)
    finally:
        stop(worker)


def wait_for(condition, what: str, log: Path, timeout: float = 30):
    """Poll ``condition()`` until it returns something truthy, and return that; fail quoting ``log``."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)
    return result

