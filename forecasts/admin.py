from django.contrib import admin

from ledger.admin import ReadOnlyAdmin

from .models import Forecast, ForecastRun


@admin.register(ForecastRun)
class ForecastRunAdmin(ReadOnlyAdmin):
    """Every forecasting run, newest first; its lines are linked from each."""

    refusal = "A forecasting run is kept as it was: run the forecasts again for new figures."
    list_display = ("id", "as_of", "cutoff", "source", "series", "forecasts", "to_order", "started_at", "finished_at")
    list_filter = ("source",)
    date_hierarchy = "started_at"


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    """Each product at each warehouse in a run: what to order first at the top."""

    refusal = "A forecast is kept as its run made it: run the forecasts again for new figures."
    list_display = ("product", "warehouse", "run", "method", "rmsse", "baseline_rmsse", "weekly_demand", "on_hand",
                    "reorder_point", "suggested_quantity", "days_of_cover", "stockout_on", "reason")
    list_filter = ("method", "warehouse", "run")
    list_select_related = ("product", "warehouse", "run")
    search_fields = ("product__sku", "product__name")
    ordering = ("-run", "stockout_on", "product")
    raw_id_fields = ("product",)
