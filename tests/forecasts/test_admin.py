"""Runs and their lines in admin: listed, read, never changed."""
from decimal import Decimal

from forecasts.models import Forecast, ForecastRun
from forecasts.services import forecast_run
from tests.factories import ProductFactory

from .conftest import TODAY


def test_admin_lists_runs_and_lines_and_changes_none(admin_client, daily_issues):
    daily_issues(ProductFactory(sku="GASKET", pack_size=Decimal("5")), received="2150", per_day="10", weeks=30)
    run = forecast_run(today=TODAY)
    line = Forecast.objects.get()
    assert admin_client.get("/admin/forecasts/forecastrun/").status_code == 200
    listing = admin_client.get("/admin/forecasts/forecast/")
    assert listing.status_code == 200 and "GASKET" in listing.content.decode()
    assert admin_client.get(f"/admin/forecasts/forecast/{line.pk}/change/").status_code == 200
    refused = admin_client.post(f"/admin/forecasts/forecastrun/{run.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403 and ForecastRun.objects.filter(pk=run.pk).exists()
