from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What an operator watches: health (``/healthz``, ``/readyz``) and metrics (``/metrics``).
    It reads every app; no app imports it."""

    name = "ops"
    verbose_name = "operations"
