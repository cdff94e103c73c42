import django_filters
from django.db.models import Q

from common.api.filters import BooleanFilter, FilterSet
from common.ids import IdFilter

from .lots import books_today
from .models import Category, Location, Lot, Product, Warehouse
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


class ExpiresBeforeFilter(django_filters.DateFilter):
    """Lots expiring before the date given; ``lot_path`` as for ``ExpiredFilter``."""

    def __init__(self, *, lot_path: str = "", **kwargs):
        kwargs.setdefault("help_text", "Lots expiring before this date (lots without an expiry never are).")
        super().__init__(field_name=f"{lot_path}expires_on", lookup_expr="lt", **kwargs)


class ExpiredFilter(BooleanFilter):
    """true: lots past their expiry today in the books' time zone; false: the others (without one too).
    ``lot_path`` reaches the lot from the filtered rows ("" for lots themselves, "lot__" for their stock)."""

    def __init__(self, *, lot_path: str = "", **kwargs):
        self.lot_path = lot_path
        kwargs.setdefault(
            "help_text", "true: past their expiry today in the books' time zone (`TIME_ZONE`); false: not (or without one).",
        )
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if value is None:
            return queryset
        expired = Q(**{f"{self.lot_path}expires_on__lt": books_today()})
        return queryset.filter(expired) if value else queryset.exclude(expired)


class LotFilter(FilterSet):
    product = IdFilter(field_name="product_id")
    code = django_filters.CharFilter()
    expires_before = ExpiresBeforeFilter()
    expired = ExpiredFilter()
    with_stock = BooleanFilter(
        method="by_stock", help_text="true: some on hand at some location; false: none anywhere.",
    )

    class Meta:
        model = Lot
        fields = ["product", "code", "expires_before", "expired", "with_stock"]

    def by_stock(self, queryset, name, value):
        return queryset.filter(on_hand__gt=0) if value else queryset.filter(on_hand=0)
