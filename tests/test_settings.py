"""The environment chooses how the app runs; production refuses to start without a secret key."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"


def run_with(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "wms.settings", **env},
        capture_output=True, text=True, timeout=60,
    )


def test_nothing_set_is_the_embedded_default():
    result = run_with({})
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "False"], result.stderr


def test_production_mode_needs_a_secret_key():
    production = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    refused = run_with(production)
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production mode" in refused.stderr
    started = run_with({**production, "DJANGO_SECRET_KEY": "s3cret"})
    assert started.stdout.split() == ["django.db.backends.postgresql", "False", "False"], started.stderr


def test_a_sqlite_database_url_is_taken_as_it_is(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
