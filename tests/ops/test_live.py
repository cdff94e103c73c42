"""Metrics and logs of a production-mode stack (tests/ops/conftest.py): two gunicorn workers, a
Celery worker, PostgreSQL and Redis, all real."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import manage

from .conftest import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.services]

POSTED = 'wms_movements_posted_total{kind="receipt"}'
PROJECTIONS = ("stock_by_product_location", "stock_by_product", "stock_by_location")


def test_counts_from_both_workers_add_up_at_every_scrape(stack):
    before = stack.metrics()
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: stack.receipt(), range(40)))
    assert [reply.status_code for reply in replies] == [201] * 40
    refused = stack.post({"kind": "issue", "product": stack.product, "location": stack.locations[1], "quantity": "5"})
    assert refused.status_code == 409

    # Both workers counted (each writes its own file), and any worker's scrape sums them.
    counted_by = {path.stem.split("_")[-1] for path in stack.metrics_dir.glob("counter_*.db")}
    assert len(counted_by) >= 2, counted_by
    head = max(reply.json()["position"] for reply in replies)
    for _ in range(6):  # each scrape lands on either worker
        now = stack.metrics()
        assert now[POSTED] - before.get(POSTED, 0) == 40
        assert now['wms_posting_refusals_total{code="insufficient_stock"}'] - before.get(
            'wms_posting_refusals_total{code="insufficient_stock"}', 0) == 1
        assert now['wms_posting_duration_seconds_count{endpoint="movement"}'] - before.get(
            'wms_posting_duration_seconds_count{endpoint="movement"}', 0) == 41
        assert now["wms_ledger_head_position"] >= head
        assert now["wms_database_up"] == 1 and now["wms_redis_up"] == 1


def test_the_workers_progress_reaches_the_metrics_through_the_database(stack):
    """The Celery worker catches the projections up; any web worker's scrape shows it (no exporter
    beside the worker), and a chain check run elsewhere shows as the last verification."""
    position = stack.receipt().json()["position"]

    def caught_up():
        now = stack.metrics()
        return all(now[f'wms_projection_checkpoint_position{{projection="{name}"}}'] >= position
                   and now[f'wms_projection_lag_events{{projection="{name}"}}'] == 0 for name in PROJECTIONS) and now

    now = wait_for(caught_up, "the projections to catch up", stack.worker_log)
    assert all(now[f'wms_projection_failing{{projection="{name}"}}'] == 0 for name in PROJECTIONS)
    assert all(f'wms_projection_catch_up_seconds{{projection="{name}"}}' in now for name in PROJECTIONS)
    assert "wms_ledger_verification_intact" not in now or now["wms_ledger_verification_intact"] == 1

    manage(stack.env, "verify_ledger")
    checked = stack.metrics()
    assert checked["wms_ledger_verification_intact"] == 1
    assert checked["wms_ledger_verification_timestamp_seconds"] > 0


def test_every_line_is_json_and_the_request_id_follows_the_posting_into_the_worker(stack):
    web_from, worker_from = stack.web_log.stat().st_size, stack.worker_log.stat().st_size
    request_id = f"ops-{uuid.uuid4().hex}"
    reply = stack.receipt(**{"X-Request-ID": request_id})
    assert reply.status_code == 201 and reply.headers["X-Request-ID"] == request_id
    position = reply.json()["position"]

    wait_for(lambda: request_id.encode() in stack.worker_log.read_bytes()[worker_from:],
             "the worker's catch-up to log the posting's request id", stack.worker_log)
    [line] = [line for line in stack.lines(stack.web_log, web_from) if line.get("request_id") == request_id]
    assert (line["logger"], line["level"], line["method"], line["path"], line["status"], line["user"]) == (
        "wms.request", "INFO", "POST", "/api/v1/movements/", 201, "clerk")
    assert line["positions"] == [position, position] and line["posted"] == 1
    assert line["duration_ms"] > 0 and line["time"]
    worker_lines = [line for line in stack.lines(stack.worker_log, worker_from) if line.get("request_id") == request_id]
    assert any("projections.catch_up" in line["message"] for line in worker_lines), worker_lines


def test_a_refusal_is_one_info_line_without_a_traceback(stack):
    web_from = stack.web_log.stat().st_size
    refused = stack.post({"kind": "issue", "product": stack.product, "location": stack.locations[1],
                          "quantity": "1000000"})
    assert refused.status_code == 409
    request_id = refused.headers["X-Request-ID"]
    lines = [line for line in stack.lines(stack.web_log, web_from) if line.get("request_id") == request_id]
    assert [(line["logger"], line["level"], line["status"]) for line in lines] == [("wms.request", "INFO", 409)]
    assert "exc_info" not in lines[0]
