"""The servers a run starts: gunicorn (the product, or the bare ceiling) and a Celery worker.

Each runs in a process group of its own, logs to a file in the run's work folder, and is stopped
(TERM, then KILL) on the way out of its ``with`` block, whatever happened inside; on failure the
tail of its log is printed.
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "bench" / "gunicorn.conf.py"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stop a server started in a process group of its own (``start_new_session=True``), with its
    workers (tests/live.py uses it too)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running(name: str, args: list[str], env: dict, log: Path, ready, timeout: float = 60):
    """Start ``args``; wait until ``ready()`` (at most ``timeout`` s); stop the group on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while starting")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} was not ready within {timeout:.0f} s")
            time.sleep(0.1)
        yield process
    except Exception:
        print(f"bench: {name} log ({log}), last lines:\n{_tail(log)}", file=sys.stderr)
        raise
    finally:
        stop(process)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def gunicorn(settings_module: str, env: dict, work: Path):
    """Serve ``wms.wsgi`` with ``settings_module`` under the shared gunicorn configuration;
    yield its base URL and the master's pid."""
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind", f"{HOST}:{port}",
            "wms.wsgi:application"]
    name = f"gunicorn {settings_module}"
    log = work / f"gunicorn-{settings_module}.log"
    with running(name, args, {**env, "DJANGO_SETTINGS_MODULE": settings_module}, log, lambda: _answers(port)) as master:
        yield f"http://{HOST}:{port}", master.pid


@contextmanager
def celery_worker(env: dict, work: Path):
    """`celery -A wms worker` as the README runs it (prefork, one process per core); the caller
    checks that it consumes (see scenarios.lag)."""
    args = [sys.executable, "-m", "celery", "-A", "wms", "worker", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with running("celery worker", args, env, work / "celery.log", ready=lambda: True) as process:
        yield process
