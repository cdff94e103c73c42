"""Serializer fields the API shares."""
from django.utils import timezone
from rest_framework import serializers

from common.errors import RecordNotFound


class ExistingRecordField(serializers.PrimaryKeyRelatedField):
    """A related record by id. One that is not there is a 404 ``not_found`` naming the field: the
    request is well formed and names a record, as a path would (DRF's own field says 400)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if error.get_codes() == ["does_not_exist"]:
                raise RecordNotFound({self.field_name: [str(error.detail[0])]}) from None
            raise


class ZonedDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that names its zone, read as UTC. A time without one is refused, not read in
    the server's zone: an auditor's year end would move by hours."""

    default_error_messages = {
        "invalid": "Not a valid date and time. Use ISO 8601 with a zone, e.g. 2026-11-25T09:30:00Z.",
        "naive": "Include a time zone (Z or +hh:mm).",
    }

    def to_internal_value(self, value):
        # Python's parser stops at a NUL and Django's pattern lets a final newline through.
        if isinstance(value, str) and not (value.isprintable() and value == value.strip()):
            self.fail("invalid")
        return super().to_internal_value(value)

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
