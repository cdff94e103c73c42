from rest_framework import serializers

from catalog.models import MONEY, QUANTITY
from common.api.parsers import refuse_repeated
from common.ids import MAX_ID
from ledger.serializers import BalanceSerializer, MovementSerializer

from .models import VALUE, LocationStock, ProductLocationStock, ProductStock


class ProductLocationStockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    location_code = serializers.CharField(source="location.code")
    warehouse = serializers.IntegerField(source="location.warehouse_id")
    warehouse_code = serializers.CharField(source="location.warehouse.code")

    class Meta:
        model = ProductLocationStock
        fields = ["product", "sku", "location", "location_code", "warehouse", "warehouse_code", "quantity"]


class ProductStockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    unit = serializers.CharField(source="product.unit")
    unit_price = serializers.DecimalField(source="product.unit_price", **MONEY)
    average_unit_cost = serializers.DecimalField(**VALUE, allow_null=True, help_text="Weighted average of costed receipts.")
    value_at_cost = serializers.DecimalField(**VALUE, allow_null=True)
    value_at_price = serializers.DecimalField(**VALUE)

    class Meta:
        model = ProductStock
        fields = ["product", "sku", "name", "unit", "quantity", "unit_price", "average_unit_cost", "value_at_cost", "value_at_price"]


class LocationStockSerializer(serializers.ModelSerializer):
    location_code = serializers.CharField(source="location.code")
    warehouse = serializers.IntegerField(source="location.warehouse_id")
    warehouse_code = serializers.CharField(source="location.warehouse.code")
    value_at_price = serializers.DecimalField(**VALUE, allow_null=True)
    value_at_cost = serializers.DecimalField(
        **VALUE, allow_null=True, help_text="Products whose receipts carried a unit cost only."
    )

    class Meta:
        model = LocationStock
        fields = ["location", "location_code", "warehouse", "warehouse_code", "quantity", "value_at_price", "value_at_cost"]


class AsOfQuerySerializer(serializers.Serializer):
    """Stock of a product as of a business time (``at``) or a ledger position; with neither, now."""

    AT_OR_POSITION = "Give at most one of 'at' and 'position'."

    product = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A product id; one that does not exist is a 404 `not_found`."
    )
    location = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False,
        help_text="Only this location; one that does not exist is a 404 `not_found`. Without it: each location.",
    )
    at = serializers.DateTimeField(
        required=False,
        help_text="Business time: movements that occurred at or before it. Without `at` and `position`: now, "
        "meaning every movement recorded so far (the ledger's head position, given in the answer), as on hand is.",
    )
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, required=False,
        help_text="Ledger position, inclusive. Without `at` and `position`: the ledger's head (now).",
    )
    movements = serializers.BooleanField(default=False, help_text="Also list the movements that produced it.")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100, help_text="At most this many movements.")

    def to_internal_value(self, data):
        refuse_repeated(data, set(self.fields))
        return super().to_internal_value(data)

    def validate(self, attrs):
        if "at" in attrs and "position" in attrs:
            raise serializers.ValidationError({"at": [self.AT_OR_POSITION], "position": [self.AT_OR_POSITION]})
        return attrs


class AsOfSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    location = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)
    quantity = serializers.DecimalField(**QUANTITY)
    balances = BalanceSerializer(many=True)
    movements_count = serializers.IntegerField(required=False)
    movements = MovementSerializer(many=True, required=False, help_text="The first `limit` of them, in ledger order.")
    movements_url = serializers.CharField(help_text="All of them, cursor-paginated, from the ledger.")


class ProjectionStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    position = serializers.IntegerField(help_text="Ledger position applied up to.")
    head = serializers.IntegerField(help_text="The ledger's last position.")
    lag_events = serializers.IntegerField()
    lag_seconds = serializers.FloatField(allow_null=True, help_text="Age of the oldest event not yet applied.")
    events_applied = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)
    rebuilt_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="Why the last catch-up failed; empty while it is healthy.")
    failed_at = serializers.DateTimeField(allow_null=True)
