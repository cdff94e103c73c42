"""One error shape under ``/api/``: every error is ``{"code", "detail", ...}`` JSON, whatever answers
it (a DRF view, Django's URL resolver or error handlers, the API middleware, gunicorn itself), and
admin and the other pages keep Django's HTML.

The gunicorn tests start a real gunicorn with the project's worker class (``common.gunicorn``), on an
SQLite file of their own and a spare port in 18031-18039, and run once per suite: in the SQLite
pass (the PostgreSQL pass skips them; their server is the same either way).
"""
import http.client
import json
import logging
import os
import re
import socket
import sys

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.api.errors import NOT_FOUND, REQUEST_TOO_LARGE
from common.ids import MAX_ID
from ledger.models import Movement
from ledger.parsing import MAX_KEY, MAX_REASON, MAX_REFERENCE
from ledger.services import MAX_BATCH
from tests.live import manage, serving, spare_port

SECRET = "a secret from deep inside the server"  # what an exception says: never in a body


def assert_error(response, status: int, code: str) -> dict:
    """The API's error: the status, JSON, ``code`` and a ``detail`` for a person."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json", response.content[:500]
    body = json.loads(response.content)
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


def assert_html(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")


def client_as(user) -> APIClient:
    """A client that answers with the response (a 500 too) rather than raising the view's exception."""
    client = APIClient(raise_request_exception=False)
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def auditor_api(auditor):
    return client_as(auditor)


@pytest.fixture
def head_fails(monkeypatch):
    """``GET /api/v1/ledger/head/`` raises an exception no handler knows."""

    def fail():
        raise RuntimeError(SECRET)

    monkeypatch.setattr("ledger.api.ledger_head", fail)


class ExplodingMiddleware:
    """Test-only: raises in the middle of the middleware chain for paths ending in ``explode/``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.endswith("/explode/"):
            raise RuntimeError(SECRET)
        return self.get_response(request)


@pytest.fixture
def exploding_middleware(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ExplodingMiddleware"]


# ---------------------------------------------------------------- 404 and 405


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", [
    "/api/v1/no-such-thing/", "/api/v1/movements/1/no-such-action/", "/api/v2/products/", "/api/",
])
def test_an_unknown_address_under_the_api_is_a_json_404_whatever_the_method(clerk_client, method, path):
    body = assert_error(clerk_client.generic(method, path), 404, "not_found")
    assert body["detail"] == NOT_FOUND


@pytest.mark.django_db
def test_an_unknown_address_is_a_json_404_without_credentials_too(anonymous_client):
    assert_error(anonymous_client.get("/api/v1/no-such-thing/"), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/api/v1/ledger/head/"),
    ("POST", "/api/v1/ledger/verify/"),
    ("PUT", "/api/v1/movements/batch/"),
    ("DELETE", "/api/v1/movements/"),
])
def test_a_method_the_view_does_not_offer_is_a_json_405(auditor_client, clerk_client, method, path):
    client = auditor_client if path.startswith("/api/v1/ledger/") else clerk_client
    response = client.generic(method, path)
    body = assert_error(response, 405, "method_not_allowed")
    assert method in body["detail"]
    assert method not in response["Allow"]


@pytest.mark.django_db
def test_admin_and_pages_keep_djangos_html_404(client, admin_client):
    assert_html(client.get("/no-such-page/"), 404)
    assert_html(client.get("/apis/v1/"), 404)  # only /api/ speaks JSON
    assert_html(admin_client.get("/admin/no-such-page/"), 404)
    # Every answer carries the request's id, pages too (it is on their log line).
    assert client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42")["X-Request-ID"] == "req-42"


# ---------------------------------------------------------------- 500 and the request id


@pytest.mark.django_db
def test_an_unhandled_exception_is_a_json_500_with_a_request_id_in_the_body_the_header_and_the_log(
        auditor_api, head_fails, caplog):
    with caplog.at_level(logging.ERROR):
        response = auditor_api.get("/api/v1/ledger/head/")
    body = assert_error(response, 500, "server_error")
    request_id = body["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response["X-Request-ID"] == request_id
    assert request_id in body["detail"]
    assert SECRET not in response.content.decode() and "Traceback" not in response.content.decode()

    # The request's own line (wms.request) says it ended in a 500, with the same id; besides it,
    # exactly one record for it: with the id, the request and the traceback.
    [line] = [r for r in caplog.records if r.name == "wms.request"]
    assert (line.levelno, line.status, line.request_id) == (logging.ERROR, 500, request_id)
    records = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name != "wms.request"]
    assert len(records) == 1, [r.getMessage() for r in records]
    [record] = records
    assert record.request_id == request_id
    assert request_id in record.getMessage() and "/api/v1/ledger/head/" in record.getMessage()
    assert record.exc_info[0] is RuntimeError and str(record.exc_info[1]) == SECRET


@pytest.mark.django_db
def test_an_exception_raised_in_a_middleware_is_a_json_500_under_the_api_and_djangos_page_elsewhere(
        exploding_middleware, caplog):
    client = APIClient(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/explode/")
    body = assert_error(response, 500, "server_error")
    assert response["X-Request-ID"] == body["request_id"]
    assert SECRET not in response.content.decode()
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name != "wms.request"]
    assert record.request_id == body["request_id"] and str(record.exc_info[1]) == SECRET

    assert_html(client.get("/admin/explode/"), 500)


@pytest.mark.django_db
@pytest.mark.parametrize(("sent", "reused"), [
    ("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f", True),  # a UUID
    ("b5c1a0f3e2d94c6a8f7e1d2c3b4a5968", True),  # nginx's $request_id
    ("Root=1-67891233-abcdef012345678912345678", True),  # an AWS load balancer's trace id
    ("two words", False),
    ("<script>", False),
    ("x" * 129, False),
    ("", False),
])
def test_the_proxys_request_id_is_kept_when_it_is_a_sane_token(auditor_api, head_fails, sent, reused):
    response = auditor_api.get("/api/v1/ledger/head/", HTTP_X_REQUEST_ID=sent)
    body = assert_error(response, 500, "server_error")
    assert (body["request_id"] == sent) is reused
    assert response["X-Request-ID"] == body["request_id"]


@pytest.mark.django_db
def test_every_answer_under_the_api_carries_a_request_id(auditor_api):
    ok = auditor_api.get("/api/v1/ledger/head/")
    assert ok.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", ok["X-Request-ID"])
    refused = APIClient().get("/api/v1/ledger/head/")
    assert_error(refused, 401, "not_authenticated")
    assert refused["X-Request-ID"] != ok["X-Request-ID"]


@pytest.mark.django_db
def test_with_debug_on_the_api_still_answers_json_and_pages_show_djangos_debug_page(
        settings, auditor_api, head_fails, exploding_middleware):
    settings.DEBUG = True
    assert_error(auditor_api.get("/api/v1/no-such-thing/"), 404, "not_found")
    for response in (auditor_api.get("/api/v1/ledger/head/"), auditor_api.get("/api/v1/explode/")):
        body = assert_error(response, 500, "server_error")
        assert SECRET not in response.content.decode() and "Traceback" not in response.content.decode()
        assert response["X-Request-ID"] == body["request_id"]

    page = APIClient(raise_request_exception=False).get("/no-such-page/")
    assert_html(page, 404)
    assert b"Page not found" in page.content  # the debug page, listing the URL patterns


# ---------------------------------------------------------------- 413 and the upload limit


def _batch_body(items: list[dict], size: int | None = None) -> bytes:
    """The batch as json.dumps writes it; padded with spaces (still the same JSON) to ``size``."""
    body = json.dumps({"movements": items}).encode()
    return body if size is None else body + b" " * (size - len(body))


def _largest_item(product: int, location: int, n: int) -> dict:
    """A receipt with every field at its maximum length (the receipt is within 1% of the longest kind)."""
    return {
        "kind": "receipt", "product": product, "location": location,
        "quantity": "999999.999", "unit_cost": "999999999.9999",
        "occurred_at": "2026-01-01T09:30:00.123456+05:30",
        "reference": f"{n:0{MAX_REFERENCE}d}", "reason": "r" * MAX_REASON,
        "idempotency_key": f"{n:0{MAX_KEY}d}",
    }


def test_the_limit_holds_the_largest_legal_batch_about_twice_and_no_more():
    """Every field at its maximum: 64-character reference, 1,000-character reason, 128-character key,
    ids of 19 digits, the largest quantities."""
    largest = max(
        len(_batch_body([{**_largest_item(MAX_ID, MAX_ID, 0), "quantity": "999999999999.999"}] * MAX_BATCH)),
        len(_batch_body([{"kind": "transfer", "product": MAX_ID, "from_location": MAX_ID, "to_location": MAX_ID,
                          "quantity": "999999999999.999", "occurred_at": "2026-01-01T09:30:00.123456+05:30",
                          "reference": "x" * MAX_REFERENCE, "reason": "x" * MAX_REASON,
                          "idempotency_key": "x" * MAX_KEY}] * MAX_BATCH)),
    )
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert 7_000_000 < largest < 7_500_000  # the figure in wms/settings/base.py
    assert 1.8 * largest < limit < 2.5 * largest


@pytest.mark.django_db
def test_the_largest_legal_batch_is_not_refused_for_its_size(clerk_client):
    """Ids past any record's: refused for what it says (no such product), never for its size."""
    body = _batch_body([{**_largest_item(MAX_ID, MAX_ID, n), "quantity": "999999999999.999"} for n in range(MAX_BATCH)])
    assert len(body) < django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = clerk_client.generic("POST", "/api/v1/movements/batch/", body, content_type="application/json")
    assert response.status_code != 413
    assert 400 <= response.status_code < 500 and response["Content-Type"] == "application/json"
    assert Movement.objects.count() == 0


@pytest.mark.django_db
def test_a_batch_of_5000_movements_with_texts_at_their_maxima_is_posted(clerk_client, product, bins):
    body = _batch_body([_largest_item(product.pk, bins[0].pk, n) for n in range(MAX_BATCH)])
    response = clerk_client.generic("POST", "/api/v1/movements/batch/", body, content_type="application/json")
    assert response.status_code == 201, response.content[:500]
    assert Movement.objects.count() == MAX_BATCH


@pytest.mark.django_db
@pytest.mark.parametrize("over", [1, 10_000_000])
def test_a_body_over_the_limit_is_a_json_413_and_posts_nothing(clerk_client, product, bins, over):
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    receipt = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"}
    response = clerk_client.generic("POST", "/api/v1/movements/batch/", _batch_body([receipt], limit + over),
                                    content_type="application/json")
    body = assert_error(response, 413, "request_too_large")
    assert body["detail"] == REQUEST_TOO_LARGE.format(limit=limit)
    assert body["max_bytes"] == limit
    assert Movement.objects.count() == 0

    single = clerk_client.generic("POST", "/api/v1/movements/", json.dumps(receipt).encode() + b" " * limit,
                                  content_type="application/json")
    assert_error(single, 413, "request_too_large")
    assert Movement.objects.count() == 0


@pytest.mark.django_db
def test_a_body_of_exactly_the_limit_is_read(clerk_client, product, bins):
    receipt = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"}
    body = _batch_body([receipt], django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = clerk_client.generic("POST", "/api/v1/movements/batch/", body, content_type="application/json")
    assert response.status_code == 201, response.content[:500]
    assert Movement.objects.count() == 1


@pytest.mark.django_db
def test_a_form_body_over_the_limit_is_a_json_413_too(clerk_client):
    body = "reference=" + "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = clerk_client.generic("POST", "/api/v1/movements/", body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 413, "request_too_large")


# ---------------------------------------------------------------- what gunicorn refuses itself

HOST = "127.0.0.1"
PORTS = range(18031, 18040)


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """``gunicorn --worker-class common.gunicorn.JsonErrorsWorker wms.wsgi``, 2 workers, as README's
    production line; yields (base URL, a clerk's token)."""
    if connection.vendor != "sqlite":
        pytest.skip("the gunicorn tests run once per suite, in the SQLite pass")
    work = tmp_path_factory.mktemp("gunicorn")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(WMS_SQLITE_PATH=str(work / "db.sqlite3"), WMS_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    manage(env, "migrate", "--no-input", timeout=120)
    token = re.search(r"^\s+clerk\s+\S+\s+([0-9a-f]{40})\b", manage(env, "seed_demo", timeout=120), re.MULTILINE).group(1)
    port = spare_port(PORTS)
    log = work / "gunicorn.log"
    args = [sys.executable, "-m", "gunicorn", "--worker-class", "common.gunicorn.JsonErrorsWorker", "--workers", "2",
            "--bind", f"{HOST}:{port}", "--timeout", "30", "--graceful-timeout", "2", "--log-level", "warning",
            "--no-control-socket", "wms.wsgi"]
    with serving(args, env, log, ready=f"http://{HOST}:{port}/api/v1/no-such-thing/", status=404):
        yield f"http://{HOST}:{port}", token


def _raw(base_url: str, request: bytes) -> tuple[int, dict, dict]:
    """Send bytes as they are; (status, headers, JSON body) of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def _gunicorn_error(status: int, headers: dict, body: dict, expected_status: int, code: str) -> str:
    assert status == expected_status, body
    assert headers["content-type"] == "application/json"
    assert body["code"] == code and body["detail"], body
    return body["detail"]


def test_gunicorn_refuses_a_request_line_too_long_with_a_json_414(gunicorn_server):
    base_url, _ = gunicorn_server
    host, port = base_url.removeprefix("http://").split(":")
    connection_ = http.client.HTTPConnection(host, int(port), timeout=10)
    connection_.request("GET", "/api/v1/products/?search=" + "a" * 10_000)
    response = connection_.getresponse()
    body = json.loads(response.read())
    detail = _gunicorn_error(response.status, {k.lower(): v for k, v in response.getheaders()}, body, 414,
                             "request_too_large")
    assert "4,094 bytes" in detail


def test_gunicorn_refuses_a_header_too_large_with_a_json_431(gunicorn_server):
    base_url, token = gunicorn_server
    host, port = base_url.removeprefix("http://").split(":")
    connection_ = http.client.HTTPConnection(host, int(port), timeout=10)
    connection_.request("GET", "/api/v1/products/", headers={"Authorization": f"Token {token}", "X-Note": "n" * 20_000})
    response = connection_.getresponse()
    body = json.loads(response.read())
    detail = _gunicorn_error(response.status, {k.lower(): v for k, v in response.getheaders()}, body, 431,
                             "request_too_large")
    assert "8,190 bytes" in detail


def test_gunicorn_refuses_what_is_not_http_with_a_json_400(gunicorn_server):
    base_url, _ = gunicorn_server
    _gunicorn_error(*_raw(base_url, b"NOT HTTP AT ALL\r\n\r\n"), 400, "malformed_request")


def test_through_gunicorn_a_body_over_the_limit_reaches_the_client_as_a_json_413(gunicorn_server):
    """Django refuses it from Content-Length, unread; the client still reads the answer."""
    base_url, token = gunicorn_server
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = requests.post(f"{base_url}/api/v1/movements/batch/", data=_batch_body([], limit + 1), timeout=30,
                             headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == "request_too_large"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_through_gunicorn_the_api_answers_as_usual(gunicorn_server):
    base_url, token = gunicorn_server
    response = requests.get(f"{base_url}/api/v1/products/", headers={"Authorization": f"Token {token}"}, timeout=10)
    assert response.status_code == 200 and response.json()["count"] > 0
    page = requests.get(f"{base_url}/no-such-page/", timeout=10)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")


def test_a_failure_gunicorn_answers_itself_is_a_json_500_with_a_request_id_that_is_logged(monkeypatch, caplog):
    """The application failed outside Django's handling (say, a header gunicorn will not send): the
    worker's own handle_error, on a real socket, as in a worker process."""
    from gunicorn import util
    from gunicorn.config import Config

    from common.gunicorn import JsonErrorsWorker

    worker = JsonErrorsWorker(0, os.getpid(), [], None, 30, Config(), logging.getLogger("tests.gunicorn"))
    monkeypatch.setattr(util, "write_error", worker.write_json_error)  # what init_process does
    server_side, client_side = socket.socketpair()
    try:
        with caplog.at_level(logging.ERROR, logger="tests.gunicorn"):
            try:
                raise RuntimeError(SECRET)
            except RuntimeError as exc:
                worker.handle_error(None, server_side, ("127.0.0.1", 40000), exc)
        server_side.close()
        answer = b""
        while chunk := client_side.recv(65536):
            answer += chunk
    finally:
        client_side.close()
        worker.tmp.close()
    head, _, raw_body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 ") and b"\r\nContent-Type: application/json\r\n" in head
    body = json.loads(raw_body)
    assert body["code"] == "server_error" and body["request_id"] in body["detail"]
    assert SECRET not in raw_body.decode()
    traceback, id_line = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert str(traceback.exc_info[1]) == SECRET and body["request_id"] in id_line.getMessage()
