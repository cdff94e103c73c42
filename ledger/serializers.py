"""How movements look in the API. Input is parsed by ``ledger.requests``; the input serializers
here describe it for the OpenAPI schema (a test keeps the two in step)."""
from rest_framework import serializers

from catalog.models import MONEY, QUANTITY

from .models import Movement
from .requests import MAX_KEY, MAX_REASON, MAX_REFERENCE, POSTABLE_KINDS


class BalanceSerializer(serializers.Serializer):
    location = serializers.IntegerField()
    quantity = serializers.DecimalField(**QUANTITY)


class MovementSerializer(serializers.ModelSerializer):
    """An event as recorded. For a transfer ``location`` is the source; ``delta`` is the signed
    change at ``location`` (``to_location``, if any, changes by ``-delta``)."""

    balances = BalanceSerializer(many=True, read_only=True, help_text="On-hand quantity after it, per location.")
    reversed_by = serializers.SerializerMethodField()

    class Meta:
        model = Movement
        fields = [
            "id", "position", "kind", "product", "location", "to_location", "quantity", "delta",
            "counted_quantity", "expected_quantity", "unit_cost", "occurred_at", "recorded_at",
            "user", "reference", "reason", "idempotency_key", "reverses", "reversed_by", "hash", "balances",
        ]
        read_only_fields = fields

    def get_reversed_by(self, movement) -> int | None:
        reversal = getattr(movement, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class MovementInputSerializer(serializers.Serializer):
    """One movement to post. Fields by kind: receipt (product, location, quantity, unit_cost?),
    issue (product, location, quantity), transfer (product, from_location, to_location, quantity),
    count (product, location, counted_quantity)."""

    kind = serializers.ChoiceField(choices=POSTABLE_KINDS)
    product = serializers.IntegerField()
    location = serializers.IntegerField(required=False)
    from_location = serializers.IntegerField(required=False)
    to_location = serializers.IntegerField(required=False)
    quantity = serializers.DecimalField(**QUANTITY, required=False, min_value=0)
    counted_quantity = serializers.DecimalField(**QUANTITY, required=False, min_value=0)
    unit_cost = serializers.DecimalField(**MONEY, required=False, min_value=0)
    occurred_at = serializers.DateTimeField(required=False, help_text="Business time; defaults to now.")
    reference = serializers.CharField(required=False, max_length=MAX_REFERENCE)
    reason = serializers.CharField(required=False, max_length=MAX_REASON)
    idempotency_key = serializers.CharField(
        required=False, max_length=MAX_KEY, help_text="For batch items; single posts use the Idempotency-Key header."
    )


class BatchInputSerializer(serializers.Serializer):
    movements = MovementInputSerializer(many=True)


class BatchOutputSerializer(serializers.Serializer):
    movements = MovementSerializer(many=True)


class ReversalInputSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField(required=False)
    reference = serializers.CharField(required=False, max_length=MAX_REFERENCE)
    reason = serializers.CharField(required=False, max_length=MAX_REASON)


class ChainReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    events = serializers.IntegerField()
    head_position = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_broken_position = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_null=True)


class HeadSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    hash = serializers.CharField()
