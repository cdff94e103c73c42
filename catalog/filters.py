import django_filters

from common.api.filters import BooleanFilter, FilterSet
from common.ids import IdFilter

from .models import Category, Location, Product, Warehouse
from .selectors import category_with_descendants


class ProductFilter(FilterSet):
    sku = django_filters.CharFilter()
    barcode = django_filters.CharFilter()
    category = IdFilter(
        method="in_category_tree",
        help_text="Products of this category and of all its subcategories.",
    )

    class Meta:
        model = Product
        fields = ["sku", "barcode", "category", "is_active", "unit"]

    def in_category_tree(self, queryset, name, value):
        return queryset.filter(category_id__in=category_with_descendants(value))


class CategoryFilter(FilterSet):
    parent = IdFilter(field_name="parent_id")
    root = BooleanFilter(field_name="parent", lookup_expr="isnull", label="Top-level only")

    class Meta:
        model = Category
        fields = ["parent", "root"]


class WarehouseFilter(FilterSet):
    class Meta:
        model = Warehouse
        fields = ["code", "is_active"]


class LocationFilter(FilterSet):
    warehouse_code = django_filters.CharFilter(field_name="warehouse__code")

    class Meta:
        model = Location
        fields = ["warehouse", "warehouse_code", "code", "is_active"]
