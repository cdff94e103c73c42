"""The nightly task and the command run the same service; the beat schedules the task."""
import io
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command

from forecasts.models import ForecastRun
from forecasts.tasks import nightly_forecast_run
from tests.factories import ProductFactory

from .conftest import TODAY


def test_the_beat_runs_the_forecasts_each_night():
    entry = settings.CELERY_BEAT_SCHEDULE["forecasts-forecast-run"]
    assert entry["task"] == nightly_forecast_run.name == "forecasts.forecast_run"


def test_the_task_stores_a_scheduled_run(daily_issues):
    daily_issues(ProductFactory(), received="2150", per_day="10", weeks=30)
    nightly_forecast_run.delay()  # eager in the embedded default
    run = ForecastRun.objects.get()
    assert (run.source, run.forecasts, run.to_order, run.as_of) == ("schedule", 1, 1, TODAY)


def test_the_command_prints_what_to_order(daily_issues):
    product = ProductFactory(sku="WASHER")
    daily_issues(product, received="2150", per_day="10", weeks=30)
    out = io.StringIO()
    call_command("forecast_run", "--service-level", "0.9", stdout=out)
    run = ForecastRun.objects.get()
    assert run.service_level == Decimal("0.9") and run.source == "command"
    assert f"Run {run.pk} for {TODAY}" in out.getvalue()
    assert "WASHER at MAIN: order 90.000 (on hand 50.000, reorder point 70.000" in out.getvalue()
