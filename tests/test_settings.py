"""The environment chooses how the app runs; production refuses to start without a secret key,
and serves HTTPS only."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
SHOW_SECURITY = """
import json, django; django.setup(); from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "AXES_FAILURE_LIMIT")}
    | {"lockout_minutes": s.AXES_COOLOFF_TIME.total_seconds() / 60,
       "unknown_token_rate": s.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["unknown_token"],
       "num_proxies": s.REST_FRAMEWORK["NUM_PROXIES"]}))
"""
GET_OVER_HTTP_AND_HTTPS = """
import django; django.setup(); from django.test import Client
plain = Client().get("/api/v1/products/")
forwarded = Client().get("/api/v1/products/", headers={"X-Forwarded-Proto": "https"})
print(plain.status_code, plain.get("Location"), forwarded.status_code, forwarded.get("Strict-Transport-Security"))
"""
PRODUCTION = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
              "DJANGO_SECRET_KEY": "s3cret"}
_SET_HERE = ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_SECURE_SSL_REDIRECT",
             "DJANGO_SECURE_HSTS_SECONDS", "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", "DJANGO_SECURE_COOKIES",
             "WMS_LOGIN_FAILURE_LIMIT", "WMS_LOGIN_LOCKOUT_MINUTES", "WMS_UNKNOWN_TOKEN_RATE", "WMS_NUM_PROXIES")


def run_with(env: dict, code: str = SHOW) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _SET_HERE}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "wms.settings", **env},
        capture_output=True, text=True, timeout=60,
    )


def security_with(env: dict) -> dict:
    result = run_with(env, SHOW_SECURITY)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_nothing_set_is_the_embedded_default():
    result = run_with({})
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "False"], result.stderr


def test_production_mode_needs_a_secret_key():
    production = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    refused = run_with(production)
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production mode" in refused.stderr
    started = run_with({**production, "DJANGO_SECRET_KEY": "s3cret"})
    assert started.stdout.split() == ["common.backends.postgresql", "False", "False"], started.stderr


def test_the_production_image_refuses_to_fall_back_to_the_embedded_default():
    """The image sets WMS_REQUIRE_PRODUCTION: without its database and broker it does not start on
    a SQLite file and a development key."""
    refused = run_with({"WMS_REQUIRE_PRODUCTION": "1"})
    assert refused.returncode != 0
    assert "runs in production mode only: set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL" in refused.stderr
    started = run_with({**PRODUCTION, "WMS_REQUIRE_PRODUCTION": "1"})
    assert started.stdout.split() == ["common.backends.postgresql", "False", "False"], started.stderr


def test_a_sqlite_database_url_is_taken_as_it_is(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_production_mode_serves_https_only():
    assert security_with(PRODUCTION) == {
        "SECURE_SSL_REDIRECT": True, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "AXES_FAILURE_LIMIT": 5, "lockout_minutes": 15, "unknown_token_rate": "20/min", "num_proxies": 1,
    }


def test_the_embedded_default_serves_plain_http():
    assert security_with({}) == {
        "SECURE_SSL_REDIRECT": False, "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_HSTS_SECONDS": 0, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False,
        "AXES_FAILURE_LIMIT": 5, "lockout_minutes": 15, "unknown_token_rate": "20/min", "num_proxies": 0,
    }


def test_production_https_settings_can_each_be_set_otherwise():
    shown = security_with({
        **PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SECURE_COOKIES": "0", "WMS_LOGIN_FAILURE_LIMIT": "10", "WMS_LOGIN_LOCKOUT_MINUTES": "60",
        "WMS_UNKNOWN_TOKEN_RATE": "100/hour", "WMS_NUM_PROXIES": "2",
    })
    assert (shown["SECURE_SSL_REDIRECT"], shown["SECURE_HSTS_SECONDS"], shown["SESSION_COOKIE_SECURE"],
            shown["CSRF_COOKIE_SECURE"]) == (False, 0, False, False)
    assert (shown["AXES_FAILURE_LIMIT"], shown["lockout_minutes"], shown["unknown_token_rate"],
            shown["num_proxies"]) == (10, 60, "100/hour", 2)
    with_subdomains = security_with({**PRODUCTION, "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1"})
    assert with_subdomains["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_malformed_numbers_and_rates_refuse_to_start():
    for name, value in [("DJANGO_SECURE_HSTS_SECONDS", "a year"), ("WMS_LOGIN_LOCKOUT_MINUTES", "0"),
                        ("WMS_UNKNOWN_TOKEN_RATE", "20 per minute")]:
        refused = run_with({name: value}, SHOW_SECURITY)
        assert refused.returncode != 0 and "ImproperlyConfigured" in refused.stderr and name in refused.stderr


def test_production_redirects_plain_http_to_https_behind_the_proxy(tmp_path):
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = run_with({**PRODUCTION, **database}, GET_OVER_HTTP_AND_HTTPS)
    assert result.stdout.split() == [
        "301", "https://testserver/api/v1/products/", "401", "max-age=31536000",
    ], result.stderr
    embedded = run_with({"WMS_SQLITE_PATH": str(tmp_path / "embedded.sqlite3")}, GET_OVER_HTTP_AND_HTTPS)
    assert embedded.stdout.split() == ["401", "None", "401", "None"], embedded.stderr
    redirect_off = run_with({**PRODUCTION, **database, "DJANGO_SECURE_SSL_REDIRECT": "0"}, GET_OVER_HTTP_AND_HTTPS)
    assert redirect_off.stdout.split()[:2] == ["401", "None"], redirect_off.stderr


SQLITE_PRAGMAS = """
import django; django.setup(); from django.db import connection
with connection.cursor() as cursor:
    print(*[cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "journal_mode", "foreign_keys")])
"""


def test_sqlite_writes_durably_as_the_default_and_when_given_by_url(tmp_path):
    """synchronous=FULL (2): a posting answered 201 is on disk, even through a power loss."""
    default = run_with({"WMS_SQLITE_PATH": str(tmp_path / "default.sqlite3")}, SQLITE_PRAGMAS)
    by_url = run_with({"DATABASE_URL": f"sqlite:///{tmp_path / 'by-url' / 'wms.sqlite3'}"}, SQLITE_PRAGMAS)
    assert default.stdout.split() == ["2", "wal", "1"], default.stderr
    assert by_url.stdout.split() == ["2", "wal", "1"], by_url.stderr
