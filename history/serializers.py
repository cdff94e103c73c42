from datetime import timezone

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.ids import MAX_ID

from .selectors import EVENTS, TRACKED


class UTCDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its zone, in UTC; one outside the calendar in UTC is invalid input."""

    def to_internal_value(self, value):
        value = super().to_internal_value(value)
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            self.fail("invalid", format="ISO 8601")


class RecordHistoryQuerySerializer(serializers.Serializer):
    """One record's history: its filters, each optional (an empty value is not given)."""

    user = serializers.IntegerField(min_value=0, max_value=MAX_ID, required=False, help_text="Who made the change.")
    event = serializers.ChoiceField(choices=EVENTS, required=False)
    after = UTCDateTimeField(required=False, help_text="Changes at or after this time.")
    before = UTCDateTimeField(required=False, help_text="Changes before this time.")


class HistoryQuerySerializer(RecordHistoryQuerySerializer):
    """The whole history's filters: a record's, and which record."""

    model = serializers.ChoiceField(
        choices=list(TRACKED), required=False,
        help_text="What kind of record: `role` is a user's group membership, `token` a user's API token.",
    )
    object = serializers.IntegerField(
        source="object_id", min_value=0, max_value=MAX_ID, required=False,
        help_text="The record's id (for `role` and `token`: the user's); without `model`, records of every kind with that id.",
    )


class FieldChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True, help_text="Null for an insert (or unknown).")
    after = serializers.JSONField(allow_null=True, help_text="Null for a delete.")


class ContextSerializer(serializers.Serializer):
    """Through what the change was made. Null: outside the application (raw SQL)."""

    id = serializers.UUIDField(help_text="Changes made together (one request, one command) share it.")
    user = serializers.IntegerField(allow_null=True, required=False)
    username = serializers.CharField(allow_null=True, required=False)
    method = serializers.CharField(required=False, help_text="The request's method (a request).")
    path = serializers.CharField(required=False, help_text="The request's path (a request: the API's or admin's).")
    request_id = serializers.CharField(
        allow_null=True, required=False, help_text="The request's `X-Request-ID` (in its log line too).",
    )
    command = serializers.CharField(required=False, help_text="The management command (a command).")

    def to_representation(self, instance):
        context_id, metadata = instance
        return super().to_representation({"id": context_id, **metadata})


class ChangeSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=list(TRACKED))
    id = serializers.IntegerField(help_text="The event's number in its model's history.")
    event = serializers.ChoiceField(
        choices=EVENTS, help_text="`baseline`: the record as it was when the history began.",
    )
    object = serializers.IntegerField(source="object_id", help_text="The record's id (`role`, `token`: the user's).")
    at = serializers.DateTimeField()
    user = serializers.SerializerMethodField(help_text="Who made the change; null if not known (raw SQL, a command).")
    context = serializers.SerializerMethodField()
    changes = serializers.DictField(
        child=FieldChangeSerializer(),
        help_text="Per field: its value before and after. An update lists only the fields it changed.",
    )

    def get_user(self, change) -> int | None:
        return (change.context or {}).get("user")

    @extend_schema_field(ContextSerializer(allow_null=True))
    def get_context(self, change) -> dict | None:
        if change.context is None:
            return None
        return ContextSerializer((change.context_id, change.context)).data

