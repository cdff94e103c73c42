from rest_framework import serializers

from common.api.parsers import refuse_repeated
from common.ids import MAX_ID

from .models import Forecast, ForecastRun
from .periods import DAY, WEEK


def _id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text=help_text)


class _Query(serializers.Serializer):
    def to_internal_value(self, data):
        refuse_repeated(data, set(self.fields))
        return super().to_internal_value(data)


class ForecastRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForecastRun
        fields = ["id", "started_at", "finished_at", "cutoff", "as_of", "source", "service_level", "series", "forecasts",
                  "to_order"]


class ForecastLineSerializer(serializers.ModelSerializer):
    """A product at a warehouse in a run: the method chosen and its backtest, the forecast, the
    suggestion (empty figures and a ``reason`` where there is no forecast)."""

    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    unit = serializers.CharField(source="product.unit")
    warehouse_code = serializers.CharField(source="warehouse.code")

    class Meta:
        model = Forecast
        fields = ["run", "product", "sku", "name", "unit", "warehouse", "warehouse_code", "method", "reason",
                  "history_weeks", "zero_weeks", "rmsse", "baseline_rmsse", "bias", "backtest_windows", "weekly_demand",
                  "lead_time_days", "pack_size", "on_hand", "lead_time_demand", "safety_stock", "safety_stock_from",
                  "reorder_point", "order_up_to", "suggested_quantity", "days_of_cover", "stockout_on", "turnover",
                  "days_of_inventory"]


class ProductForecastQuerySerializer(_Query):
    run = _id("A run's id (default: the latest); one that does not exist is a 404 `not_found`.")
    warehouse = _id("Only this warehouse (the chart needs one where the product is at several).")


class WeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The week's Monday.")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3)


class ForecastWeekSerializer(serializers.Serializer):
    week = serializers.DateField()
    forecast = serializers.DecimalField(max_digits=18, decimal_places=3)
    low = serializers.DecimalField(max_digits=18, decimal_places=3)
    high = serializers.DecimalField(max_digits=18, decimal_places=3)


class WindowSerializer(serializers.Serializer):
    cut = serializers.DateField(help_text="The first week the window forecast; the fit saw only the weeks before it.")
    forecast = serializers.ListField(child=serializers.DecimalField(max_digits=18, decimal_places=3))
    actual = serializers.ListField(child=serializers.DecimalField(max_digits=18, decimal_places=3))


class ProductLineSerializer(ForecastLineSerializer):
    """One warehouse's line with its weekly history (demand from the ledger up to the run's
    cut-off), the forecast with its band and the backtest's windows."""

    history = WeekSerializer(many=True)
    forecast = ForecastWeekSerializer(many=True)
    interval = serializers.ListField(child=serializers.FloatField(), help_text="The band's quantiles of the backtest's weekly errors.")
    windows = WindowSerializer(many=True)

    class Meta(ForecastLineSerializer.Meta):
        fields = [*ForecastLineSerializer.Meta.fields, "history", "forecast", "interval", "windows"]


class ProductForecastSerializer(serializers.Serializer):
    run = ForecastRunSerializer()
    product = serializers.IntegerField()
    lines = ProductLineSerializer(many=True)


class DemandQuerySerializer(_Query):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The product.")
    period = serializers.ChoiceField(choices=[WEEK, DAY], default=WEEK, help_text="Days, or weeks from Monday (default).")
    by = serializers.ChoiceField(choices=["warehouse", "location"], default="warehouse",
                                 help_text="Per warehouse (default) or per location.")
    warehouse = _id("Only this warehouse's locations.")
    location = _id("Only this location.")


class DemandRowSerializer(serializers.Serializer):
    """A period with demand: issues net of their reversals (a reversal counted at its issue's time)."""

    warehouse = serializers.IntegerField(required=False, help_text="With `by=warehouse`.")
    location = serializers.IntegerField(required=False, help_text="With `by=location`.")
    period = serializers.DateField(help_text="The day, or the week's Monday.")
    quantity = serializers.DecimalField(max_digits=24, decimal_places=3)


class DemandSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    period = serializers.CharField()
    by = serializers.CharField()
    rows = DemandRowSerializer(many=True, help_text="Periods with demand only, oldest first; a period not listed had none.")
