"""What a forecasting run found: the run, and per product and warehouse the method chosen, its
backtest score, the forecast and the reorder suggestion made from it. A run is kept as it was (a
later run adds rows, never changes these), so what purchasing was told on a day can be read back."""
from django.db import models

from catalog.models import QUANTITY, Product, Warehouse

RATIO = {"max_digits": 24, "decimal_places": 4}  # a ratio over a tiny quantity (0.001) can be large


class RunSource(models.TextChoices):
    SCHEDULE = "schedule", "nightly schedule"
    COMMAND = "command", "forecast_run command"


class ForecastRun(models.Model):
    """One run over every product and warehouse with movements, from the ledger's history up to
    ``cutoff`` (the start of the week it ran in: weeks after it are not complete)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    cutoff = models.DateField(help_text="History before this date (a Monday) was used; nothing on or after it.")
    as_of = models.DateField(help_text="The day the suggestions are for (days of cover count from it).")
    source = models.CharField(max_length=16, choices=RunSource.choices)
    service_level = models.DecimalField(max_digits=5, decimal_places=4)
    series = models.PositiveIntegerField(help_text="Product-warehouses looked at.")
    forecasts = models.PositiveIntegerField(help_text="Of them, forecast (the rest say why not).")
    to_order = models.PositiveIntegerField(help_text="Of them, with a quantity to order now.")

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.as_of} ({self.forecasts} of {self.series} forecast)"


class Forecast(models.Model):
    """A product at a warehouse in one run. Without a forecast, ``method`` is empty and ``reason``
    says why; with one, every figure is there (``days_of_cover`` and ``stockout_on`` are empty when
    the stock lasts beyond ten years at the forecast rate, none at all included; turnover when the
    stock held was none)."""

    run = models.ForeignKey(ForecastRun, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=32, blank=True, help_text="The method the backtest chose.")
    reason = models.CharField(max_length=200, blank=True, help_text="Why there is no forecast.")
    history_weeks = models.PositiveIntegerField()
    zero_weeks = models.PositiveIntegerField(help_text="Weeks of the history without demand.")
    rmsse = models.DecimalField(**RATIO, null=True, blank=True, help_text="The chosen method's backtest RMSSE.")
    baseline_rmsse = models.DecimalField(**RATIO, null=True, blank=True, help_text="Seasonal naive's, on the same windows.")
    bias = models.DecimalField(**RATIO, null=True, blank=True, help_text="Forecast over actual, less one, in the backtest.")
    backtest_windows = models.PositiveIntegerField(default=0)
    weekly_demand = models.DecimalField(**QUANTITY, null=True, blank=True, help_text="Forecast per week.")
    lead_time_days = models.PositiveIntegerField()
    pack_size = models.DecimalField(**QUANTITY)
    on_hand = models.DecimalField(**QUANTITY)
    lead_time_demand = models.DecimalField(**QUANTITY, null=True, blank=True)
    safety_stock = models.DecimalField(**QUANTITY, null=True, blank=True)
    safety_stock_from = models.CharField(max_length=16, blank=True, help_text="empirical (quantile) or normal (z x RMSE).")
    reorder_point = models.DecimalField(**QUANTITY, null=True, blank=True)
    order_up_to = models.DecimalField(**QUANTITY, null=True, blank=True)
    suggested_quantity = models.DecimalField(**QUANTITY, null=True, blank=True)
    days_of_cover = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    stockout_on = models.DateField(null=True, blank=True, help_text="When the stock on hand runs out at the forecast rate.")
    turnover = models.DecimalField(**RATIO, null=True, blank=True, help_text="Demand over the last 52 weeks over the average stock.")
    days_of_inventory = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    detail = models.JSONField(default=dict, help_text="The forecast per week with its interval, and the backtest's windows.")

    class Meta:
        ordering = ["run", "product", "warehouse"]
        constraints = [
            models.UniqueConstraint(fields=["run", "product", "warehouse"], name="forecast_one_per_run_product_warehouse"),
        ]
        indexes = [models.Index(fields=["product", "warehouse", "run"], name="forecast_product_warehouse_run")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id} in run {self.run_id}: {self.method or self.reason}"
