import django_filters

from catalog.filters import ExpiredFilter, ExpiresBeforeFilter
from catalog.selectors import category_with_descendants
from common.api.filters import BooleanFilter, FilterSet
from common.ids import IdFilter

from .models import LocationStock, LotStock, ProductLocationStock, ProductStock


class NonZeroFilterSet(FilterSet):
    """Rows with stock only, unless ``include_zero=true``."""

    include_zero = BooleanFilter(method="keep_zero_rows", help_text="Also list rows whose quantity is zero.")

    def keep_zero_rows(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_zero"):
            queryset = queryset.exclude(quantity=0)
        return queryset


class CategoryTreeFilter(IdFilter):
    """Products of a category (by id) and of all its subcategories."""

    def __init__(self, *, product_path: str, **kwargs):
        self.product_path = product_path
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if value is None:
            return queryset
        return queryset.filter(**{f"{self.product_path}category_id__in": category_with_descendants(value)})


class ProductLocationStockFilter(NonZeroFilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = IdFilter(field_name="location__warehouse_id")
    category = CategoryTreeFilter(product_path="product__")

    class Meta:
        model = ProductLocationStock
        fields = ["product", "location", "sku", "warehouse", "category"]


class LotStockFilter(NonZeroFilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = IdFilter(field_name="location__warehouse_id")
    category = CategoryTreeFilter(product_path="product__")
    lot_code = django_filters.CharFilter(field_name="lot__code")
    expires_before = ExpiresBeforeFilter(lot_path="lot__")
    expired = ExpiredFilter(lot_path="lot__")

    class Meta:
        model = LotStock
        fields = ["product", "location", "lot", "sku", "warehouse", "category", "lot_code", "expires_before", "expired"]


class ProductStockFilter(NonZeroFilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    category = CategoryTreeFilter(product_path="product__")

    class Meta:
        model = ProductStock
        fields = ["product", "sku", "category"]


class LocationStockFilter(NonZeroFilterSet):
    warehouse = IdFilter(field_name="location__warehouse_id")

    class Meta:
        model = LocationStock
        fields = ["location", "warehouse"]
