"""deploy/nginx.conf in front of the app, both for real: gunicorn with two workers on the prepared
app (tests/deploy/conftest.py), and Debian's nginx (``nginx -p DIR -c DIR/nginx.conf``) with the
repository's file rendered as compose renders it (only the ``${WMS_...}`` placeholders filled in).

gunicorn writes an access log of the headers it received, so the test sees what nginx forwarded.
Runs in the SQLite pass; skipped without nginx except in CI (apt-get install nginx).
"""
import http.client
import json
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from common.api.errors import request_too_large_body
from tests.live import HOST, serving, spare_port

from .conftest import DEPLOY, render, require_tool

NGINX_PORTS = range(18300, 18320)
APP_PORTS = range(18320, 18350)
# What gunicorn logs of each request: the headers nginx is to set, tab-separated.
FORWARDED = ("host", "x-forwarded-host", "x-forwarded-for", "x-forwarded-proto", "x-request-id")
ACCESS_FORMAT = "\t".join(["%(U)s"] + [f"%({{{name}}}i)s" for name in FORWARDED])


@dataclass
class Proxy:
    url: str
    app_url: str
    access_log: Path  # nginx's (JSON lines)
    app_log: Path  # gunicorn's access log: the path and the FORWARDED headers, tab-separated
    static_root: Path
    tokens: dict

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Token {self.tokens[token]}"
        return requests.get(self.url + path, headers=headers, timeout=10, **kwargs)

    def nginx_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.access_log.read_text().splitlines()]

    def nginx_line(self, request_id: str, timeout: float = 5) -> dict:
        """nginx's line for the request: written once the answer is sent, so wait for it."""
        deadline = time.monotonic() + timeout
        while not (found := [line for line in self.nginx_lines() if line["request_id"] == request_id]):
            assert time.monotonic() < deadline, f"no line with request id {request_id} in nginx's access log"
            time.sleep(0.05)
        assert len(found) == 1, f"{len(found)} access log lines with request id {request_id}"
        return found[0]

    def app_lines_for(self, request_id: str, timeout: float = 5) -> list[dict]:
        """gunicorn's lines for the request: it writes one once the answer is sent, so wait for it."""
        deadline = time.monotonic() + timeout
        while not (found := [line for line in self.app_lines() if line["x-request-id"] == request_id]):
            assert time.monotonic() < deadline, (
                f"no line with {request_id} in gunicorn's access log:\n{self.app_log.read_text()[-2000:]}")
            time.sleep(0.05)
        return found

    def app_lines(self) -> list[dict]:
        """gunicorn's access log, one dict per request (path and the forwarded headers)."""
        lines = []
        for line in self.app_log.read_text().splitlines():
            path, *values = line.split("\t")
            lines.append({"path": path, **dict(zip(FORWARDED, values))})
        return lines


def _nginx(binary: str, folder: Path, *, listen: str, upstream: str, static_root: Path):
    """The repository's nginx.conf rendered into ``folder`` and served from there (the context
    manager of tests.live.serving, entered once nginx answers)."""
    access_log = folder / "access.log"
    config = render((DEPLOY / "nginx.conf").read_text(), {
        "WMS_LISTEN": listen, "WMS_UPSTREAM": upstream, "WMS_STATIC_ROOT": str(static_root),
        "WMS_ACCESS_LOG": str(access_log),
    })
    (folder / "nginx.conf").write_text(config)
    args = [binary, "-e", "stderr", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
    ready = f"http://{listen}/static/admin/css/base.css"  # nginx alone: answers with the app down too
    return serving(args, {"PATH": os.environ.get("PATH", "")}, folder / "nginx.log", ready=ready, timeout=20)


@pytest.fixture(scope="module")
def nginx_binary():
    return require_tool("nginx", "nginx")


@pytest.fixture(scope="module")
def proxy(prepared_app, nginx_binary):
    folder = prepared_app.directory("nginx")
    app_port = spare_port(APP_PORTS)
    app_url = f"http://{HOST}:{app_port}"
    app_log = folder / "gunicorn-access.log"
    gunicorn = [sys.executable, "-m", "gunicorn", "--worker-class", "common.gunicorn.JsonErrorsWorker",
                "--workers", "2", "--bind", f"{HOST}:{app_port}", "--timeout", "60", "--graceful-timeout", "5",
                "--log-level", "warning", "--access-logfile", str(app_log), "--access-logformat", ACCESS_FORMAT,
                "wms.wsgi:application"]
    with serving(gunicorn, prepared_app.env, folder / "gunicorn.log", ready=f"{app_url}/healthz", timeout=60):
        port = spare_port(NGINX_PORTS)
        with _nginx(nginx_binary, folder, listen=f"{HOST}:{port}", upstream=f"{HOST}:{app_port}",
                    static_root=prepared_app.static_root):
            yield Proxy(f"http://{HOST}:{port}", app_url, folder / "access.log", app_log, prepared_app.static_root,
                        prepared_app.tokens)


def _request_id() -> str:
    return f"deploy-test-{uuid.uuid4().hex}"


def test_static_files_are_served_by_nginx_from_the_collected_directory(proxy):
    request_id = _request_id()
    response = proxy.get("/static/admin/css/base.css", headers={"X-Request-ID": request_id, "Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.content == (proxy.static_root / "admin" / "css" / "base.css").read_bytes()
    assert response.headers["Cache-Control"] == "max-age=3600"
    line = proxy.nginx_line(request_id)
    assert (line["status"], line["upstream_addr"]) == (200, ""), "nginx answered it, gunicorn was not asked"

    # The .gz whitenoise's storage wrote beside it (gzip_static), for a client that takes gzip.
    compressed = proxy.get("/static/admin/css/base.css", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert compressed.headers.get("Content-Encoding") == "gzip"
    assert compressed.raw.read() == (proxy.static_root / "admin" / "css" / "base.css.gz").read_bytes()

    request_id = _request_id()
    missing = proxy.get("/static/admin/css/no-such-file.css", headers={"X-Request-ID": request_id})
    assert missing.status_code == 404
    assert proxy.nginx_line(request_id)["upstream_addr"] == ""
    assert not [line for line in proxy.app_lines() if line["path"].startswith("/static/")]


def test_the_api_is_proxied_with_the_request_id(proxy):
    request_id = _request_id()
    refused = proxy.get("/api/v1/", headers={"X-Request-ID": request_id})
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.json()["code"] == "not_authenticated"
    assert refused.headers["X-Request-ID"] == request_id, "the client's id, through nginx to the app and back"
    assert proxy.nginx_line(request_id)["status"] == 401

    answered = proxy.get("/api/v1/ledger/head/", token="clerk")
    assert answered.status_code == 200, answered.text
    assert "position" in answered.json()
    # No id from the client: nginx's own ($request_id), the same in its log and in the app's answer.
    made = answered.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert proxy.nginx_line(made)["uri"] == "/api/v1/ledger/head/"

    # An id the app would not take (a space in it) is replaced by nginx's, which the app keeps.
    replaced = proxy.get("/api/v1/ledger/head/", token="clerk", headers={"X-Request-ID": "two words"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])
    assert proxy.nginx_line(replaced.headers["X-Request-ID"])["uri"] == "/api/v1/ledger/head/"


def test_the_forwarded_headers_reach_the_app(proxy):
    request_id = _request_id()
    response = proxy.get("/api/v1/products/?page_size=1", token="clerk",
                         headers={"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.7"})
    assert response.status_code == 200, response.text
    host = proxy.url.removeprefix("http://")
    seen = proxy.app_lines_for(request_id)
    assert seen == [{
        "path": "/api/v1/products/",
        "host": host,  # the client's Host, port included
        "x-forwarded-host": host,
        "x-forwarded-for": "203.0.113.7, 127.0.0.1",  # the client's chain, nginx's peer appended last
        "x-forwarded-proto": "http",
        "x-request-id": request_id,
    }]
    # The app builds its absolute links from that Host: the next page is nginx's, port and all.
    assert response.json()["next"].startswith(f"{proxy.url}/api/v1/products/?")


def test_a_body_over_the_apps_limit_is_refused_by_nginx_with_the_apps_413(proxy):
    configured = re.search(r"^\s*client_max_body_size\s+(\d+);", (DEPLOY / "nginx.conf").read_text(), re.MULTILINE)
    assert configured, "client_max_body_size in bytes, as the app's DATA_UPLOAD_MAX_MEMORY_SIZE"
    assert int(configured.group(1)) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    request_id = _request_id()
    connection = http.client.HTTPConnection(proxy.url.removeprefix("http://"), timeout=10)
    try:
        # The headers alone: nginx refuses on Content-Length, before any of the body is sent.
        connection.putrequest("POST", "/api/v1/movements/batch/")
        for name, value in {"Content-Type": "application/json", "Authorization": f"Token {proxy.tokens['clerk']}",
                            "Content-Length": str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
                            "X-Request-ID": request_id}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        status, content_type, echoed, body = (response.status, response.getheader("Content-Type"),
                                              response.getheader("X-Request-ID"), response.read())
    finally:
        connection.close()
    assert status == 413
    assert content_type == "application/json"
    # Word for word the body the app itself answers past its limit (common/api/errors.py).
    assert json.loads(body) == request_too_large_body()
    assert echoed == request_id
    assert proxy.nginx_line(request_id)["upstream_addr"] == "", "refused by nginx, never sent to gunicorn"

    # A body past nginx's default limit (1 MB) but within the app's reaches the app, which reads it.
    big = json.dumps({"movements": "x" * 2_000_000})
    answered = requests.post(f"{proxy.url}/api/v1/movements/batch/", data=big, timeout=30, headers={
        "Content-Type": "application/json", "Authorization": f"Token {proxy.tokens['clerk']}"})
    assert answered.status_code == 400, answered.text[:500]
    assert answered.json()["code"] == "validation_error"


def test_probes_are_not_logged_and_the_api_is(proxy):
    for path in ("/healthz", "/readyz"):
        response = proxy.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
        assert response.headers["Content-Type"] == "application/json"
    request_id = _request_id()
    assert proxy.get("/api/v1/", headers={"X-Request-ID": request_id}).status_code == 401
    assert proxy.nginx_line(request_id)["uri"] == "/api/v1/"
    lines = proxy.nginx_lines()  # every line is one JSON object
    assert not [line for line in lines if line["uri"].split("?")[0] in ("/healthz", "/readyz")]
    assert {"time", "remote_addr", "request_id", "method", "uri", "status", "request_time",
            "upstream_status"} <= lines[-1].keys()


def test_metrics_are_refused_through_nginx_but_served_by_the_app(proxy):
    for path in ("/metrics", "/metrics/", "/metrics?name[]=wms_ledger_head_position"):
        response = proxy.get(path)
        assert response.status_code == 403, path
        assert "wms_" not in response.text
    direct = requests.get(f"{proxy.app_url}/metrics", timeout=10)
    assert direct.status_code == 200
    assert "wms_ledger_head_position" in direct.text


def test_json_is_compressed(proxy):
    response = proxy.get("/api/v1/schema/?format=json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in response.headers.get("Vary", "")
    assert response.json()["openapi"]  # requests decompressed it

    listed = proxy.get("/api/v1/products/", token="clerk", headers={"Accept-Encoding": "gzip"})
    assert listed.headers["Content-Type"] == "application/json"
    if len(listed.content) >= 1024:  # gzip_min_length
        assert listed.headers.get("Content-Encoding") == "gzip"


def test_the_app_down_is_the_apis_503_for_the_api(prepared_app, nginx_binary):
    """gunicorn not answering: under /api/ the API's 503 service_unavailable (retry with the same
    Idempotency-Key), elsewhere nginx's own 502 page."""
    folder = prepared_app.directory("nginx-no-upstream")
    dead = spare_port(APP_PORTS)  # nothing listens there
    port = spare_port(NGINX_PORTS)
    with _nginx(nginx_binary, folder, listen=f"{HOST}:{port}", upstream=f"{HOST}:{dead}",
                static_root=prepared_app.static_root):
        started = time.monotonic()
        response = requests.post(f"http://{HOST}:{port}/api/v1/movements/", json={}, timeout=10,
                                 headers={"X-Request-ID": "deploy-test-down"})
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Retry-After"] == "1"
        assert response.headers["X-Request-ID"] == "deploy-test-down"
        assert response.json()["code"] == "service_unavailable"
        assert requests.get(f"http://{HOST}:{port}/admin/", timeout=10).status_code == 502
