from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, PRODUCTION, env_bool, env_list, env_str

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production mode.")
    SECRET_KEY = "embedded-default-insecure-key-not-for-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "pgtrigger",
    "pghistory",
    "common",
    "accounts",
    "catalog",
    "ledger",
    "projections",
    "valuation",  # beside the projections: it reads the ledger the same way
    "history",  # after the catalog: it adds the history to the catalog's admin pages
    "anchors",
    "reports",
    "forecasts",
    "scan",  # the clerks' scanning page (/scan/)
    "demo",
    "ops",
]

MIDDLEWARE = [
    # /healthz, /readyz, /metrics: answered before the host check and the HTTPS redirect (ops).
    "ops.middleware.ProbesMiddleware",
    # Request counts and latency by view and status (/metrics), whatever answers.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # A request id on every answer and every log record, and one log line per request.
    "common.request_log.RequestLogMiddleware",
    # Under /api/, the API's JSON body for every error, whatever fails after it.
    "common.api.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who changed master data and through what, on each change recorded (history.context).
    "history.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: turns a lockout into its 429 page
]
PROMETHEUS_EXPORT_MIGRATIONS = False  # readiness reports migrations (ops.health); no query at start-up

# The largest request body read into memory (413 request_too_large past it). The largest legal
# batch, 5,000 movements with every field at its maximum (a 64-character reference, a 1,000-character
# reason, a 128-character idempotency key, 19-digit ids, as json.dumps writes it), is 7.3 MB in ASCII;
# twice that holds the same batch with every text in two-byte UTF-8 (accented Latin, Greek,
# Cyrillic: 13.2 MB). Texts at their maxima in three-byte characters or \u escapes need smaller
# batches. tests/api/test_error_shape.py recomputes the figure.
DATA_UPLOAD_MAX_MEMORY_SIZE = 15_000_000

ROOT_URLCONF = "wms.urls"
WSGI_APPLICATION = "wms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles"  # the image collects into its own
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if PRODUCTION:
    CACHES = {
        "default": {
            # django-redis keeps one client per process; Django's own backend builds a client
            # per call, which costs more than the round trip on a posting's hot path.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": env_str("REDIS_URL", env_str("CELERY_BROKER_URL")),
            # Redis is a cache here, never the source of truth: an unreachable one costs a bounded
            # wait, and its callers go on without it (see projections.tasks and accounts.throttling).
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
