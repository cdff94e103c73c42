"""A real browser for the tests: Debian's headless Chromium driven by Playwright (never
``playwright install``), against the demo app served on a spare port with a SQLite file of its own.
Shared by tests/admin (screenshots) and tests/scan (the scanning page)."""
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live import manage, serving, spare_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--mute-audio"]


def chromium_path() -> str:
    """Debian's chromium; a skip without it, a failure in CI (.ci/run installs it)."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser tests: install Debian's chromium (.ci/run does)")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it")


def demo_env(folder: Path) -> dict:
    """The environment of a demo app on its own SQLite file in ``folder``, migrated and seeded."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_DEBUG"}}
    env |= {"WMS_SQLITE_PATH": str(folder / "demo.sqlite3"), "WMS_LOG_LEVEL": "WARNING"}
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    manage(env, "seed_demo")
    return env


@contextmanager
def demo_server(env: dict, folder: Path, ports: range, *, ready: str = "/admin/login/") -> Iterator[str]:
    """runserver on the first spare port of ``ports`` until the block ends; yields its base URL.
    ``--insecure``: runserver serves the static files itself (no collectstatic into the tree)."""
    port = spare_port(ports)
    args = [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]
    base = f"http://127.0.0.1:{port}"
    with serving(args, env, folder / "server.log", ready=f"{base}{ready}"):
        yield base


@contextmanager
def chromium(executable: str, *, args: tuple[str, ...] = ()) -> Iterator:
    """A headless Chromium (Playwright's Browser) with CHROMIUM_ARGS and ``args``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *args])
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, folder: Path, name: str, capsys, *, what: str = "screenshot") -> Path:
    """Save the whole page as ``folder/name.png`` and print where (not committed: a temporary folder)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with capsys.disabled():
        print(f"\n{what}: {path}")
    return path
