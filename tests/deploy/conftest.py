"""What the deploy tests share: the app prepared once (a SQLite database of its own, migrated and
seeded with the demo users, and its static files collected), the tools they run for real (nginx,
Prometheus, docker-compose), and the rendering of the repository's templated configuration.

The prepared app lives in a directory made with ``tempfile`` and opened to everyone (0755), not in
pytest's (0700): nginx, started as root, reads the static files as ``nobody``.
"""
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tests.live import ROOT, manage

DEPLOY = ROOT / "deploy"

# The environment a test's own server must not inherit: it runs the embedded default on its own
# SQLite file (no PostgreSQL, no broker), whatever the suite's pass.
_NOT_INHERITED = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_DEBUG", "PROMETHEUS_MULTIPROC_DIR",
                  "WMS_BIND", "WMS_WORKERS", "WMS_ACCESS_LOG", "DJANGO_STATIC_ROOT", "WMS_SQLITE_PATH")


def once_per_suite(why: str = "its servers use SQLite of their own in either pass") -> None:
    """What does not depend on the suite's database runs once, in the SQLite pass."""
    if connection.vendor != "sqlite":
        pytest.skip(f"runs once per suite, in the SQLite pass ({why})")


def require_tool(name: str, package: str) -> str:
    """The tool's path; skipped when it is missing, except in CI (``.ci/run`` installs it)."""
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: install Debian's {package} (apt-get install {package}; .ci/run does)")
    pytest.skip(f"{name} is not installed (apt-get install {package}); CI installs it")


def render(template: str, values: dict[str, str]) -> str:
    """Fill in ``${NAME}`` for each of ``values``, as envsubst (and the nginx image's entrypoint)
    does with those variables; anything else, nginx's own ``$variables`` included, stays as it is.
    Fails if a ``${WMS_...}`` placeholder is left without a value."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    left = sorted(set(re.findall(r"\$\{?(WMS_\w+)", template)))
    assert not left, f"placeholders without a value: {left}"
    return template


def placeholders(template: str) -> set[str]:
    return set(re.findall(r"\$\{(WMS_\w+)\}", template))


@dataclass(frozen=True)
class App:
    """The prepared app: its environment (for ``manage`` and gunicorn), the demo users' tokens,
    where its static files were collected, and a directory for a test's files."""

    env: dict
    tokens: dict
    static_root: Path
    folder: Path

    def directory(self, name: str) -> Path:
        path = self.folder / name
        path.mkdir(mode=0o755)
        return path


@pytest.fixture(scope="session")
def prepared_app():
    once_per_suite()
    folder = Path(tempfile.mkdtemp(prefix="wms-deploy-"))
    folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        static_root = folder / "static"
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env |= {"WMS_SQLITE_PATH": str(folder / "app.sqlite3"), "DJANGO_STATIC_ROOT": str(static_root),
                "WMS_LOG_LEVEL": "WARNING", "WMS_UNKNOWN_TOKEN_RATE": "100000/min", "PYTHONUNBUFFERED": "1"}
        manage(env, "migrate", "--no-input", "--verbosity", "0")
        seeded = manage(env, "seed_demo")
        tokens = dict(re.findall(r"^\s+(\w+)\s+\S+\s+([0-9a-f]{40})\b", seeded, re.MULTILINE))
        assert {"clerk", "auditor"} <= tokens.keys(), f"seed_demo printed no tokens:\n{seeded}"
        manage(env, "collectstatic", "--no-input", "--verbosity", "0")
        assert (static_root / "admin" / "css" / "base.css").is_file(), (
            f"collectstatic did not write into DJANGO_STATIC_ROOT ({static_root})")
        yield App(env=env, tokens=tokens, static_root=static_root, folder=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
