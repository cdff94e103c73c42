import django_filters
from django.db.models import Q

from catalog.models import Location, Product

from .models import Movement, MovementKind


class MovementFilter(django_filters.FilterSet):
    product = django_filters.ModelChoiceFilter(queryset=Product.objects.all())
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(), method="at_location", help_text="Movements touching this location (either leg)."
    )
    warehouse = django_filters.NumberFilter(method="in_warehouse", help_text="Movements touching this warehouse.")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    user = django_filters.NumberFilter(field_name="user_id")
    reference = django_filters.CharFilter()
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    occurred_until = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")
    position_after = django_filters.NumberFilter(field_name="position", lookup_expr="gt")
    position_until = django_filters.NumberFilter(field_name="position", lookup_expr="lte")

    class Meta:
        model = Movement
        fields = ["product", "location", "kind", "user", "reference"]

    def at_location(self, queryset, name, value):
        return queryset.filter(Q(location=value) | Q(to_location=value))

    def in_warehouse(self, queryset, name, value):
        return queryset.filter(Q(location__warehouse_id=value) | Q(to_location__warehouse_id=value))
