"""The valuation's query parameters and answers."""
from datetime import UTC, date, datetime, time, timedelta

from rest_framework import serializers

from catalog.models import MONEY, QUANTITY
from common.api.fields import ZonedDateTimeField
from common.api.parsers import refuse_repeated
from common.ids import MAX_ID
from ledger.closes import books_zone

from .models import VALUE, CostEntry
from .selectors import GROUPS

TOTAL_QUANTITY = {"max_digits": 32, "decimal_places": QUANTITY["decimal_places"]}


class AsOfField(ZonedDateTimeField):
    """A business time, inclusive; a date alone is the end of that day in the books' time zone
    (everything dated on it)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                self.fail("invalid")
            if day >= date.max:
                self.fail("invalid")
            return (datetime.combine(day + timedelta(days=1), time.min, tzinfo=books_zone()) - timedelta(microseconds=1)).astimezone(UTC)
        return super().to_internal_value(value)


class _Query(serializers.Serializer):
    def to_internal_value(self, data):
        refuse_repeated(data, set(self.fields))
        empty = {name: ["May not be empty: leave it out instead."] for name in self.fields if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class ValuationQuerySerializer(_Query):
    as_of = AsOfField(
        required=False,
        help_text="Business time, inclusive (a date alone: the end of that day in the books' zone): the movements dated "
        "up to it. Without it: whenever dated.",
    )
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, required=False,
        help_text="Ledger position, inclusive: what the ledger up to it said (past what the valuation has applied: that). "
        "Without it: everything applied.",
    )
    group_by = serializers.ChoiceField(choices=GROUPS, default="product", help_text="One line per product, category, warehouse or location.")
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Only this product (404 if none).")
    warehouse = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Only this warehouse (404 if none).")
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Only this category (404 if none).")


class ValuationLineSerializer(serializers.Serializer):
    """One line: the group's ids and names (those of its kind), its quantity and value."""

    product = serializers.IntegerField(source="product_id", required=False)
    sku = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    category = serializers.IntegerField(source="category_id", required=False, allow_null=True)
    category_name = serializers.CharField(required=False, allow_null=True)
    warehouse = serializers.IntegerField(source="warehouse_id", required=False)
    warehouse_code = serializers.CharField(required=False)
    warehouse_name = serializers.CharField(required=False)
    location = serializers.IntegerField(source="location_id", required=False)
    location_code = serializers.CharField(required=False)
    quantity = serializers.DecimalField(**TOTAL_QUANTITY)
    value = serializers.DecimalField(**VALUE)

    def to_representation(self, instance):
        """The line's own fields alone: DRF writes a missing nullable one as null, which would give a
        warehouse's line a category of null."""
        shown = super().to_representation(instance)
        return {name: value for name, value in shown.items() if self.fields[name].source in instance}


class ValuationSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True, help_text="The business time applied; null: whenever dated.")
    position = serializers.IntegerField(help_text="The ledger position applied: quote it (with `as_of`) to reproduce the figures.")
    group_by = serializers.CharField()
    quantity = serializers.DecimalField(**TOTAL_QUANTITY, help_text="All lines'.")
    value = serializers.DecimalField(**VALUE, help_text="All lines'.")
    lines = ValuationLineSerializer(many=True)


class CostLayerSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField(source="warehouse_id")
    warehouse_code = serializers.CharField(source="warehouse.code")
    seq = serializers.IntegerField(help_text="Order of arrival (FIFO takes the lowest first); 0: an average's pool.")
    source = serializers.IntegerField(source="source_id", allow_null=True, help_text="The movement that brought it (FIFO).")
    received_at = serializers.DateTimeField(allow_null=True)
    unit_cost = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True)
    quantity = serializers.DecimalField(**TOTAL_QUANTITY)
    value = serializers.DecimalField(**VALUE)


class ProductCostLayersSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    sku = serializers.CharField()
    method = serializers.CharField(help_text="average or fifo: the product's method now.")
    valued_method = serializers.CharField(allow_null=True, help_text="The method its stored figures were worked out by (null: none yet).")
    quantity = serializers.DecimalField(**TOTAL_QUANTITY)
    value = serializers.DecimalField(**VALUE)
    last_cost = serializers.DecimalField(**MONEY, allow_null=True, help_text="Its last known unit cost (the last costed receipt's).")
    layers = CostLayerSerializer(many=True)


class CostEntrySerializer(serializers.ModelSerializer):
    movement = serializers.IntegerField(source="movement_id")
    product = serializers.IntegerField(source="product_id")
    warehouse = serializers.IntegerField(source="warehouse_id")
    location = serializers.IntegerField(source="location_id")
    lot = serializers.IntegerField(source="lot_id", allow_null=True)

    class Meta:
        model = CostEntry
        fields = ["id", "movement", "product", "warehouse", "location", "lot", "occurred_at", "flow", "reversal",
                  "quantity", "value", "cogs", "unit_cost", "flagged"]


class ValuationStatusSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="Ledger position the valuation has applied up to.")
    head = serializers.IntegerField()
    behind = serializers.IntegerField(help_text="Events not yet applied.")
    events_applied = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)
    rebuilt_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
