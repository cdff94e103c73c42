"""A real Celery worker (the local Redis as broker) writes an export while the status endpoint says
how far it is."""
import time

import pytest

from tests.reports.test_finance import PERIOD, _get, _xlsx_total, books  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_real_worker_writes_an_export_and_its_status_ends_done(celery_worker_process, finance_client, books):  # noqa: F811
    job = finance_client.post("/api/v1/reports/exports/", {"report": "flows", "format": "xlsx", "parameters": {
        "from": "2026-01-01", "to": "2026-04-01"}}, format="json").json()
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = finance_client.get(f"/api/v1/reports/exports/{job['id']}/").json()
        seen.add(status["state"])
        if status["state"] in ("done", "failed"):
            break
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not write the export within 60 s")
    assert (status["state"], status["done"], status["total"], status["error"]) == ("done", 4, 4, "")
    download = finance_client.get(status["download"])
    from decimal import Decimal as D
    body = _get(finance_client, "flows", PERIOD).json()
    assert {n: D(str(v)) for n, v in _xlsx_total(download.content).items()} == {n: D(v) for n, v in body["total"].items()}
