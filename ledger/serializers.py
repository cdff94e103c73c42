"""How movements look in the API. Input is parsed by ``ledger.parsing``; the input serializers
here describe it for the OpenAPI schema (a test keeps the two in step)."""
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal

from rest_framework import serializers

from catalog.models import MAX_LOT, MONEY, QUANTITY
from common.ids import MAX_ID

from catalog.serializers import ReadableCharField

from .closes import CLOSE_PROBLEM_CODES
from .legs import placed_legs
from .models import Movement, MovementKind, PeriodClose
from .parsing import MAX_KEY, MAX_REASON, MAX_REFERENCE, POSTABLE_KINDS
from .selectors import recorded_up_to
from .verification import PROBLEM_CODES, SAVED_HEAD_FORMAT, SAVED_HEAD_PATTERN, SavedHead


class BalanceSerializer(serializers.Serializer):
    location = serializers.IntegerField()
    quantity = serializers.DecimalField(**QUANTITY)


class MovementSerializer(serializers.Serializer):
    """An event as recorded. For a transfer ``location`` is the source; ``delta`` is the signed
    change at ``location`` (``to_location``, if any, changes by ``-delta``).

    The fields are declared for the schema; ``to_representation`` writes them directly, because
    every posting answers with one and DRF's field-by-field path costs more than the posting's SQL.
    """

    id = serializers.IntegerField()
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MovementKind.choices)
    product = serializers.IntegerField()
    location = serializers.IntegerField()
    to_location = serializers.IntegerField(allow_null=True)
    quantity = serializers.DecimalField(**QUANTITY)
    delta = serializers.DecimalField(**QUANTITY)
    counted_quantity = serializers.DecimalField(**QUANTITY, allow_null=True)
    expected_quantity = serializers.DecimalField(**QUANTITY, allow_null=True)
    unit_cost = serializers.DecimalField(**MONEY, allow_null=True)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    user = serializers.IntegerField()
    reference = serializers.CharField()
    reason = serializers.CharField()
    idempotency_key = serializers.CharField()
    reverses = serializers.IntegerField(allow_null=True)
    reversed_by = serializers.IntegerField(allow_null=True)
    lot = serializers.IntegerField(allow_null=True, help_text="The lot moved (lot-tracked products).")
    lot_code = serializers.CharField(allow_null=True)
    allocation = serializers.IntegerField(
        allow_null=True, help_text="An event of a posting split across lots: the first event of that posting.",
    )
    hash = serializers.CharField()
    balances = BalanceSerializer(many=True, help_text="On-hand quantity after it, per location.")

    def to_representation(self, movement: Movement) -> dict:
        reversal = getattr(movement, "reversed_by", None)
        return {
            "id": movement.pk,
            "position": movement.position,
            "kind": movement.kind,
            "product": movement.product_id,
            "location": movement.location_id,
            "to_location": movement.to_location_id,
            "quantity": _decimal(movement.quantity, QUANTITY),
            "delta": _decimal(movement.delta, QUANTITY),
            "counted_quantity": _decimal(movement.counted_quantity, QUANTITY),
            "expected_quantity": _decimal(movement.expected_quantity, QUANTITY),
            "unit_cost": _decimal(movement.unit_cost, MONEY),
            "occurred_at": _datetime(movement.occurred_at),
            "recorded_at": _datetime(movement.recorded_at),
            "user": movement.user_id,
            "reference": movement.reference,
            "reason": movement.reason,
            "idempotency_key": movement.idempotency_key,
            "reverses": movement.reverses_id,
            "reversed_by": reversal.pk if reversal is not None else None,
            "lot": movement.lot_id,
            "lot_code": movement.lot.code if movement.lot_id is not None else None,
            "allocation": movement.allocation_id,
            "hash": movement.hash,
            "balances": [
                {"location": key.location, "quantity": _decimal(getattr(movement, leg.balance_field), QUANTITY)}
                for leg, key in placed_legs(movement)
            ],
        }


class PostedSerializer(MovementSerializer):
    """What a posting answers for each movement asked: its (first) event, and in ``allocated`` every
    event it took when more than one (an issue or transfer split across lots, first-expiring first,
    or the reversal of one): each names its lot and quantity."""

    allocated = MovementSerializer(
        many=True, required=False, help_text="Every event of this posting, when it took more than one (absent otherwise).",
    )

    def to_representation(self, posted) -> dict:
        data = super().to_representation(posted.movement)
        if posted.allocated:
            data["allocated"] = [MovementSerializer().to_representation(event) for event in posted.allocated]
        return data


def _decimal(value: Decimal | None, spec: dict) -> str | None:
    """As DRF writes decimals: a string with the column's decimal places."""
    return None if value is None else format(value.quantize(Decimal(1).scaleb(-spec["decimal_places"])), "f")


def _datetime(value: datetime) -> str:
    """As DRF writes times here: ISO 8601 in UTC, with Z."""
    text = value.astimezone(dt_timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
    lot = serializers.CharField(
        required=False, max_length=MAX_LOT,
        help_text="The lot's code, for a product tracked by lot: a receipt or count names it (a new code makes the "
        "lot); an issue or transfer naming none takes the first-expiring lots (FEFO), split across lots if need be.",
    )
    expires_on = serializers.DateField(
        required=False, help_text="Receipt or count: the lot's expiry date (the last day it may be used)."
    )
    manufactured_on = serializers.DateField(required=False, help_text="Receipt or count: the lot's manufacturing date.")
    gs1 = serializers.CharField(
        required=False, help_text="Receipt or issue: a scanned GS1 element string (FNC1 as the GS character, or the "
        "parentheses form; ]C1, ]d2, ]Q3 allowed) instead of product (AI 01, the GTIN matched to its barcode), lot (10), "
        "expires_on (17), manufactured_on (11) and quantity (37; else give quantity).",
    )


class BatchInputSerializer(serializers.Serializer):
    movements = MovementInputSerializer(many=True)


class BatchOutputSerializer(serializers.Serializer):
    movements = PostedSerializer(many=True)


class ReversalInputSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField(required=False)
    reference = serializers.CharField(required=False, max_length=MAX_REFERENCE)
    reason = serializers.CharField(required=False, max_length=MAX_REASON)


class HeadSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    hash = serializers.CharField()


class ExportQuerySerializer(serializers.Serializer):
    """A range of positions, (after, upto]. A bound past the head is the head (the ledger holds
    nothing beyond it yet; the header says the range exported), as ``stock/as-of/`` reads one."""

    after = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, default=0,
        help_text="Export the events after this position (past the head: the head, an empty export).",
    )
    upto = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, required=False, help_text="Up to this position (default, or past the head: the head).",
    )

    def validate(self, attrs):
        if "upto" in attrs and attrs["after"] > attrs["upto"]:
            raise serializers.ValidationError({"upto": ["Give after <= upto."]})
        upto = recorded_up_to(attrs.get("upto"))
        return {"after": min(attrs["after"], upto), "upto": upto}


class VerifyQuerySerializer(serializers.Serializer):
    expect = serializers.RegexField(
        SAVED_HEAD_PATTERN, required=False, error_messages={"invalid": f"Expected {SAVED_HEAD_FORMAT}."},
        help_text="A head saved earlier from `ledger/head/`, as `POSITION:HASH`: the answer says in "
        "`expected_head` whether today's ledger extends it.",
    )

    def validate_expect(self, value: str) -> SavedHead:
        try:
            return SavedHead.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        # DRF takes a blank query value for an absent one; an auditor's empty ``?expect=`` must not
        # pass for a plain verification.
        if "expect" not in attrs and "expect" in self.initial_data:
            raise serializers.ValidationError({"expect": [f"Expected {SAVED_HEAD_FORMAT}."]})
        return attrs


class ExtensionReportSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    hash = serializers.CharField()
    extends = serializers.BooleanField(
        help_text="The chain verifies from genesis through `position` and the event there carries `hash`."
    )
    problem = serializers.CharField(allow_null=True, help_text="Why not, for a person.")


class CloseChainReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    closes = serializers.IntegerField(help_text="Period closes and reopenings verified.")
    first_broken_sequence = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_null=True)
    problem_code = serializers.ChoiceField(choices=CLOSE_PROBLEM_CODES, allow_null=True)


class ChainReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField(help_text="The movements' chain and the period closes' both.")
    events = serializers.IntegerField()
    head_position = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_broken_position = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_null=True)
    problem_code = serializers.ChoiceField(choices=PROBLEM_CODES, allow_null=True)
    expected_head = ExtensionReportSerializer(allow_null=True, help_text="Given `expect`: whether the ledger extends it.")
    closes = CloseChainReportSerializer(help_text="The chain of period closes: each link, the ledger head each attests, the head's cutoff.")


class PeriodCloseSerializer(serializers.ModelSerializer):
    """A close of the books through a date, or a reopening back to one: a row of their own chain."""

    id = serializers.IntegerField(source="sequence", help_text="Its place in the chain of closes, from 1.")

    class Meta:
        model = PeriodClose
        fields = [
            "id", "action", "through", "closed_before", "head_position", "head_hash", "user", "recorded_at", "reason", "hash",
        ]
        read_only_fields = fields


MAX_CLOSE_REASON = 1000


class CloseInputSerializer(serializers.Serializer):
    through = serializers.DateField(
        help_text="Closing: the last business date closed (inclusive), before today. Reopening: the date the books "
        "stay closed through, before the one they are closed through now.",
    )
    reason = ReadableCharField(multiline=True, max_length=MAX_CLOSE_REASON, help_text="Why; required.")
