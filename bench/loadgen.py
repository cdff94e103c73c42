"""Load generators: wrk for the posting loads (light, so the CPU goes to the server), and a
small stdlib HTTP client for the batch and as-of scenarios, where a request is heavy or the
queries are sequential anyway."""
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

from .movements import Mix

POST_LUA = Path(__file__).resolve().parent / "wrk" / "post.lua"
CONNECTIONS = 8
THREADS = 2


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("bench: wrk is missing; install it with `apt-get install wrk` (Debian's package)")
    return path


@dataclass(frozen=True)
class WrkResult:
    seconds: float
    requests: int
    statuses: dict[int, int]
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def rate(self) -> float:
        """2xx responses per second."""
        return self.ok / self.seconds

    def share(self, count: int) -> float:
        """``count`` as a share of every attempt (socket errors included)."""
        return count / max(self.requests + self.socket_errors, 1)

    @property
    def failed(self) -> int:
        """Attempts without a 2xx answer, socket errors included."""
        return self.requests + self.socket_errors - self.ok


def wrk(
    url: str, pool: Path, token: str, tag: str, mix: Mix, seconds: int, occurred_at: str | None = None
) -> WrkResult:
    """Post movements to ``url`` from 8 connections for ``seconds`` (bounded: wrk stops itself);
    with ``occurred_at`` (ISO 8601), every movement is dated at that business time."""
    args = [require_wrk(), "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{max(int(seconds), 1)}s",
            "--timeout", "10s", "-s", str(POST_LUA), url, "--", str(pool), token, tag, str(mix.receipt), str(mix.issue)]
    if occurred_at is not None:
        args.append(occurred_at)
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH "))
    return WrkResult(
        seconds=data["duration_us"] / 1e6,
        requests=data["requests"],
        statuses={int(status): n for status, n in data["statuses"].items()},
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def request(url: str, *, token: str, method: str = "GET", body=None, timeout: float = 120) -> tuple[int, bytes, float]:
    """One request on a fresh connection (gunicorn's sync workers close each one): (status, body, seconds)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Authorization": f"Token {token}"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    connection = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    return response.status, content, time.perf_counter() - started
