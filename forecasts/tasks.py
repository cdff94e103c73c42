"""Celery tasks of the forecasts: thin wrappers around the service."""
from celery import shared_task

from .models import RunSource
from .services import forecast_run


@shared_task(name="forecasts.forecast_run")
def nightly_forecast_run() -> str:
    """Forecast every product at every warehouse from the weeks before this one (the beat's entry)."""
    return str(forecast_run(source=RunSource.SCHEDULE))
