from common.api.filters import FilterSet
from common.ids import IdFilter

from .models import Forecast


class OrdersFilter(FilterSet):
    run = IdFilter(field_name="run_id", help_text="A run's id (default: the latest).")
    warehouse = IdFilter(field_name="warehouse_id")
    product = IdFilter(field_name="product_id")

    class Meta:
        model = Forecast
        fields = ["run", "warehouse", "product"]
