"""What a forecast request can ask for that is not there."""
from common.errors import DomainError, RecordNotFound


class NoForecastRun(DomainError):
    status = 404
    code = "no_forecast_run"

    def __init__(self):
        super().__init__("No forecasting run yet: the nightly task or `manage.py forecast_run` makes one.")


class NoForecast(RecordNotFound):
    NO_RUN = "No forecasting run {run}."
    NOT_FORECAST = "Product {product} was not looked at by run {run}: it has not moved at any warehouse (or not at this one)."
