"""Reading the environment, in one place.

Two ways to run, chosen here:
- embedded default (nothing set): SQLite in ``var/``, Celery tasks run eagerly in-process;
- production (``DATABASE_URL`` and ``CELERY_BROKER_URL`` both set): PostgreSQL, real Celery
  workers, Redis cache, and a ``DJANGO_SECRET_KEY`` that must be given.
"""
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DATABASE_URL = env_str("DATABASE_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
PRODUCTION = bool(DATABASE_URL and CELERY_BROKER_URL)
# The production image sets this: without its database and broker it refuses to start rather
# than fall back to the embedded default (a SQLite file in the image, a development secret key).
if env_bool("WMS_REQUIRE_PRODUCTION") and not PRODUCTION:
    raise ImproperlyConfigured(
        "This deployment runs in production mode only: set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis)."
    )
