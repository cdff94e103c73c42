from django.core.exceptions import ImproperlyConfigured

from .env import PRODUCTION, env_str

# JSON lines on stdout in production (one object per record, ready for Logstash or any collector);
# human-readable lines by default in the embedded mode. WMS_LOG_FORMAT=json|text chooses either way.
LOG_FORMAT = env_str("WMS_LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"WMS_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.request_log.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("WMS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django logs every 4xx as a WARNING ("Conflict: /api/v1/movements/"); a refusal is the
        # API working, and the request's own line (wms.request, INFO) says it. 5xx stay ERRORs.
        "django.request": {"level": "ERROR"},
        # python-barcode (scan's labels, SVG only) says at every start that Pillow is missing.
        "pyBarcode": {"level": "WARNING"},
    },
}
