"""Helpers for tests that run the project as a live server (gunicorn or runserver) on its own
SQLite file: a spare port, ``manage.py`` in a subprocess, and a server started, awaited and
stopped."""
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from bench.processes import stop

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def spare_port(ports: range) -> int:
    """The first port of ``ports`` nothing listens on (each suite has a range of its own), or any
    free port when all are taken."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    """Run ``manage.py`` with ``env``; fail the test with its output if it fails."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@contextmanager
def serving(args: list[str], env: dict, log: Path, *, ready: str, status: int = 200, timeout: float = 30) -> Iterator[subprocess.Popen]:
    """Run the server ``args`` (its output in ``log``) until the block ends; enter once ``ready``
    (a URL) answers ``status``, or fail with the log's end if it exits or stays silent."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(ready, status):
            tail = lambda: log.read_text(errors="replace")[-3000:]  # noqa: E731
            assert process.poll() is None, f"the server exited with {process.returncode}:\n{tail()}"
            assert time.monotonic() < deadline, f"the server did not answer {ready} within {timeout} s:\n{tail()}"
            time.sleep(0.1)
        yield process
    finally:
        stop(process)


def _answers(url: str, status: int) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == status
    except requests.RequestException:
        return False
