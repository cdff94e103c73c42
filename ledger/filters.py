from datetime import timezone

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from common.api.filters import FilterSet
from common.ids import IdFilter

from . import legs
from .models import Movement, MovementKind


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC: PostgreSQL refuses offsets past 15:59 that Python accepts, and an
    instant outside Python's calendar in UTC (year 1 at +01:00) is no time at all."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise ValidationError("Date and time out of range.", code="invalid") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class MovementFilter(FilterSet):
    product = IdFilter(field_name="product_id")
    lot = IdFilter(field_name="lot_id", help_text="Movements of this lot.")
    allocation = IdFilter(
        field_name="allocation_id", help_text="The events of one posting split across lots (the id of its first event).",
    )
    location = IdFilter(method="at_location", help_text="Movements touching this location (either leg).")
    warehouse = IdFilter(method="in_warehouse", help_text="Movements touching this warehouse.")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    user = IdFilter(field_name="user_id")
    reference = django_filters.CharFilter()
    occurred_after = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    occurred_until = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="lte")
    position_after = IdFilter(field_name="position", lookup_expr="gt")
    position_until = IdFilter(field_name="position", lookup_expr="lte")

    class Meta:
        model = Movement
        fields = ["product", "lot", "allocation", "location", "kind", "user", "reference"]

    def at_location(self, queryset, name, value):
        return queryset.filter(legs.any_leg(id=value))

    def in_warehouse(self, queryset, name, value):
        return queryset.filter(legs.any_leg(warehouse_id=value))
