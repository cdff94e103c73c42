import re

from django.core.exceptions import ImproperlyConfigured

from .env import PRODUCTION, env_str
from .security import env_int


def _rate(name: str, default: str) -> str:
    """A DRF throttle rate ("20/min"), checked at start rather than at the first throttled request."""
    value = env_str(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|m|h|d)[a-z]*", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 20/min, not {value!r}")
    return value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ModelPermissions"],
    "DEFAULT_PARSER_CLASSES": [
        "common.api.parsers.JSONParser",
        "common.api.parsers.FormParser",
        "common.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "common.api.filters.SearchFilter",
        "common.api.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.AutoSchema",  # adds the error responses (common/api/schema.py)
    "EXCEPTION_HANDLER": "common.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # A client is its address (DRF's get_ident); X-Forwarded-For is believed only for this many
    # proxies in front (production: one), so a client cannot choose its own address.
    "NUM_PROXIES": env_int("WMS_NUM_PROXIES", 1 if PRODUCTION else 0),
    "DEFAULT_THROTTLE_RATES": {
        # Refused tokens (unknown, or of an inactive user) per client; valid tokens are not counted.
        "unknown_token": _rate("WMS_UNKNOWN_TOKEN_RATE", "20/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stock ledger API",
    "DESCRIPTION": (
        "An append-only ledger of stock movements with read-side projections. "
        "Quantities and money are decimal strings; times are ISO 8601 in UTC. "
        "Every error has one body, the `Error` schema: `code` for programs (one of a fixed list), "
        "`detail` for people, `errors` per field for invalid input, and what a client needs to act on "
        "that code. Each operation lists the statuses it can answer, with an example of each code. "
        "Postings take an `Idempotency-Key` header: a retry with the same key and body is answered "
        "as the first time, with `Idempotent-Replayed: true`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The error body's code (common/api/schema.py, where AutoSchema adds the error responses).
    "ENUM_NAME_OVERRIDES": {"ErrorCodeEnum": "common.api.schema.ERROR_CODES"},
}
