from rest_framework import serializers

from catalog.models import MONEY, QUANTITY
from catalog.serializers import ExpiredField
from common.api.fields import ZonedDateTimeField
from common.api.parsers import refuse_repeated
from common.ids import MAX_ID
from ledger.serializers import BalanceSerializer, MovementSerializer

from .models import VALUE, LocationStock, LotStock, ProductLocationStock, ProductStock


class ProductLocationStockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    location_code = serializers.CharField(source="location.code")
    warehouse = serializers.IntegerField(source="location.warehouse_id")
    warehouse_code = serializers.CharField(source="location.warehouse.code")

    class Meta:
        model = ProductLocationStock
        fields = ["product", "sku", "location", "location_code", "warehouse", "warehouse_code", "quantity"]


class LotStockSerializer(ProductLocationStockSerializer):
    lot_code = serializers.CharField(source="lot.code")
    expires_on = serializers.DateField(source="lot.expires_on", allow_null=True)
    expired = ExpiredField(source="lot")

    class Meta:
        model = LotStock
        fields = [
            "product", "sku", "location", "location_code", "warehouse", "warehouse_code",
            "lot", "lot_code", "expires_on", "expired", "quantity",
        ]


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
    """What the books said at a record time (``position`` or ``recorded_at``; without either, now)
    about the stock of a product at a business time (``at``; without it, whenever)."""

    ONE_RECORD_BOUND = "Give at most one of 'position' and 'recorded_at'."

    product = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A product id; one that does not exist is a 404 `not_found`."
    )
    location = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False,
        help_text="Only this location; one that does not exist is a 404 `not_found`. Without it: each location.",
    )
    lot = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False,
        help_text="Only this lot (a lot of the product; another is a 404 `not_found`). Without it: every lot, each "
        "listed in `lots` for a product tracked by lot.",
    )
    at = ZonedDateTimeField(
        required=False,
        help_text="Business time: only movements that occurred at or before it. Without it: whenever they occurred "
        "(so without any bound, every movement recorded so far, as on hand counts them).",
    )
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, required=False,
        help_text="Record time as a ledger position, inclusive: what the books said once it was recorded. Past the "
        "head: the head (the answer's `position` says which). Without it and `recorded_at`: the head, now.",
    )
    recorded_at = ZonedDateTimeField(
        required=False,
        help_text="Record time as a time: what the books said then, the movements recorded at or before it "
        "(resolved to a position, given in the answer; later than the last recording: the head).",
    )
    movements = serializers.BooleanField(default=False, help_text="Also list the movements that produced it.")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100, help_text="At most this many movements.")

    def to_internal_value(self, data):
        refuse_repeated(data, set(self.fields))
        return super().to_internal_value(data)

    def validate(self, attrs):
        if "position" in attrs and "recorded_at" in attrs:
            raise serializers.ValidationError({"position": [self.ONE_RECORD_BOUND], "recorded_at": [self.ONE_RECORD_BOUND]})
        return attrs


class LotBalanceSerializer(BalanceSerializer):
    lot = serializers.IntegerField()


class AsOfSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    location = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True, help_text="The business time asked about; null: whenever.")
    recorded_at = serializers.DateTimeField(allow_null=True, help_text="The record time asked about, if given as a time.")
    position = serializers.IntegerField(
        help_text="The record bound applied: the movements recorded up to this position. Quote it to reproduce the figure."
    )
    lot = serializers.IntegerField(allow_null=True, help_text="The lot asked about; null: every lot.")
    quantity = serializers.DecimalField(**QUANTITY)
    balances = BalanceSerializer(many=True)
    lots = LotBalanceSerializer(
        many=True, help_text="Per location and lot, for a product tracked by lot (empty for one that is not)."
    )
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
