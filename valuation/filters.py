import django_filters
from django_filters.rest_framework import FilterSet

from common.ids import IdFilter
from ledger.filters import UTCDateTimeFilter

from .models import CostEntry


class CostEntryFilter(FilterSet):
    product = IdFilter(field_name="product_id")
    warehouse = IdFilter(field_name="warehouse_id")
    location = IdFilter(field_name="location_id")
    lot = IdFilter(field_name="lot_id")
    movement = IdFilter(field_name="movement_id")
    flow = django_filters.ChoiceFilter(choices=[(f, f) for f in ("receipt", "issue", "transfer", "count")])
    flagged = django_filters.BooleanFilter()
    occurred_after = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = CostEntry
        fields = ["product", "warehouse", "location", "lot", "movement", "flow", "flagged", "occurred_after", "occurred_before"]
