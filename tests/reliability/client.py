"""A small HTTP client for the API, one new TCP connection per request (so that the requests
spread over gunicorn's workers), and the ``manage.py`` commands the tests run."""
import http.client
import json
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

from .processes import HOST, PYTHON, ROOT

_sequence = count(1)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: object
    seconds: float
    marker: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __str__(self) -> str:
        return f"{self.status} in {self.seconds * 1000:.0f} ms: {str(self.body)[:300]}"


@dataclass
class Api:
    port: int
    label: str = "api"
    timeout: float = 30
    sent: list[Reply] = field(default_factory=list)

    def request(self, method: str, path: str, *, token: str | None = None, body=None,
                headers: dict | None = None, marker: str = "") -> Reply:
        """Send one request on a connection of its own. ``marker`` goes into the query string, so
        the request can be found in gunicorn's access log (which worker served it)."""
        marker = marker or f"{self.label}-{next(_sequence)}"
        path += ("&" if "?" in path else "?") + f"probe={marker}"
        sent_headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Accept": "application/json",
            "Connection": "close",
            **({"Authorization": f"Token {token}"} if token else {}),
            **(headers or {}),
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent_headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=payload, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read()
            seconds = time.perf_counter() - started
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")[:500]
        reply = Reply(response.status, reply_headers, parsed, seconds, marker)
        self.sent.append(reply)
        return reply

    def get(self, path: str, *, token: str, marker: str = "") -> Reply:
        return self.request("GET", path, token=token, marker=marker)

    def post(self, path: str, body, *, token: str, key: str | None = None, marker: str = "") -> Reply:
        headers = {"Idempotency-Key": key} if key else {}
        return self.request("POST", path, token=token, body=body, headers=headers, marker=marker)

    def post_movement(self, movement: dict, *, token: str, key: str | None = None, marker: str = "") -> Reply:
        return self.post("/api/v1/movements/", movement, token=token, key=key or str(uuid.uuid4()), marker=marker)

    def receipt(self, *, product: int, location: int, quantity, token: str, key: str | None = None,
                marker: str = "") -> Reply:
        movement = {"kind": "receipt", "product": product, "location": location, "quantity": str(quantity),
                    "reference": "reliability"}
        return self.post_movement(movement, token=token, key=key, marker=marker)

    def status(self, *, token: str) -> list[dict]:
        reply = self.get("/api/v1/stock/status/", token=token)
        assert reply.status == 200, f"/stock/status/ answered {reply}"
        return reply.body

    def stock(self, *, token: str, **filters) -> dict[tuple[int, int], Decimal]:
        """Projected on-hand per (product, location), zero rows left out."""
        query = "&".join(f"{k}={v}" for k, v in {"page_size": 1000, **filters}.items())
        reply = self.get(f"/api/v1/stock/?{query}", token=token)
        assert reply.status == 200, f"/stock/ answered {reply}"
        rows = reply.body["results"] if isinstance(reply.body, dict) else reply.body
        return {(_id(row["product"]), _id(row["location"])): Decimal(row["quantity"]) for row in rows
                if Decimal(row["quantity"]) != 0}

    def create(self, path: str, body: dict, *, token: str) -> dict:
        reply = self.post(path, body, token=token)
        assert reply.status == 201, f"POST {path} answered {reply}"
        return reply.body


def _id(value) -> int:
    """A related object in a stock row, as an id (nested or not)."""
    return int(value["id"]) if isinstance(value, dict) else int(value)


def manage(*args: str, env: dict, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with ``env``; with ``check``, a non-zero exit fails with its output."""
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"manage.py {args[0]} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def shell(code: str, *, env: dict, timeout: float = 300) -> str:
    """Run ``code`` in ``manage.py shell`` and return what it printed."""
    return manage("shell", "-c", code, env=env, timeout=timeout).stdout
