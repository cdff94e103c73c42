from celery.schedules import crontab

from .env import CELERY_BROKER_URL as _BROKER, env_str

if _BROKER:
    CELERY_BROKER_URL = _BROKER
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: no broker; tasks run in-process when queued.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
# Queuing a task from a request gives up quickly when the broker is down (the posting has committed;
# the beat queues a catch-up once the broker is back); workers keep reconnecting on their own.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.5,
    # Redis's acknowledgement emulation keeps a worker's unacknowledged messages in Redis to hand
    # them out again later; when Redis goes away while the worker holds one (a catch-up waiting for
    # its countdown), kombu's restore of it crashes the worker for good ("'NoneType' object has no
    # attribute 'hostname'", kombu issue 970). Our tasks need no redelivery: a catch-up lost with
    # its message is queued again by the next posting or by the beat, and a rebuild is asked again.
    "ack_emulation": False,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep the worker's database connection between tasks (Celery closes it around every task by
# default, and catch-ups are short and frequent); it is recycled after this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"
# The worker logs through Django's LOGGING (JSON lines in production, with the request id of the
# posting that queued the task), not through Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Projections catch up after every posting; this also catches up if a message was lost.
    "projections-catch-up": {"task": "projections.catch_up", "schedule": 10.0},
    # The valuation too (valuation.tasks): a lost message, or a product whose method was changed.
    "valuation-catch-up": {"task": "valuation.catch_up", "schedule": 10.0},
    # The chain is walked every night; the result is kept (ledger.ChainCheck) and shown at /metrics.
    "ledger-verify-chain": {"task": "ledger.verify_chain", "schedule": crontab(hour=2, minute=30)},
    # The head is attested at the end of each day, UTC (anchors.Anchor; unchanged since the last: no new one).
    "anchors-anchor-ledger": {"task": "anchors.anchor_ledger", "schedule": crontab(hour=23, minute=59)},
    # Demand forecasts and reorder suggestions each night, from the weeks before this one (forecasts.ForecastRun).
    "forecasts-forecast-run": {"task": "forecasts.forecast_run", "schedule": crontab(hour=3, minute=15)},
}
