"""Serializer fields the API shares."""
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
