from collections.abc import Mapping

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from common.api.fields import ExistingRecordField
from common.api.schema import closed
from common.text import text_problem

from . import services
from .lots import ON_HAND, books_today
from .models import LOT_CODE, LOT_CODE_RULE, MAX_LOT, Category, Location, Lot, Product, Tracking, Warehouse


class ReadableCharField(serializers.CharField):
    """A CharField for text a person reads (``common.text``): refuses control characters and
    unpaired surrogates, naming the first, before trimming the whitespace around the value."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)
        # This check names the NUL or surrogate itself; DRF's own two would repeat it in other words.
        self.validators = [
            v for v in self.validators
            if not isinstance(v, (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator))
        ]

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str):
            problem = text_problem(data, multiline=self.multiline)
            if problem:
                raise serializers.ValidationError(problem, code="unreadable_text")
        return super().run_validation(data)


class ReadableTextSerializer(serializers.ModelSerializer):
    """Builds the model's text fields named in ``one_line`` and ``multiline`` as ``ReadableCharField``,
    and its related records as ``ExistingRecordField`` (one that is not there is a 404)."""

    serializer_related_field = ExistingRecordField

    one_line: tuple[str, ...] = ()
    multiline: tuple[str, ...] = ()

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_name in self.one_line or field_name in self.multiline:
            assert issubclass(field_class, serializers.CharField), field_name
            field_class = ReadableCharField
            kwargs["multiline"] = field_name in self.multiline
        return field_class, kwargs


class HistoryGuardedSerializer(ReadableTextSerializer):
    """Refuses (409 ``history_protected``) a change to a field that the ledger's history depends on."""

    def update(self, instance, validated_data):
        with services.history_guarded(record=instance, changes=validated_data):
            return super().update(instance, validated_data)


class CategorySerializer(ReadableTextSerializer):
    one_line = ("name",)

    class Meta:
        model = Category
        fields = ["id", "name", "parent"]

    def validate_parent(self, parent):
        """A field check, so that it runs before the uniqueness validators: a category under
        itself is a 400 naming ``parent`` even where its name is also taken there."""
        if self.instance is not None and self.instance.would_be_own_ancestor(parent):
            raise serializers.ValidationError(Category.CYCLE_MESSAGE)
        return parent

    def validate(self, attrs):
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        name = attrs.get("name", getattr(self.instance, "name", None))
        # Names are unique among siblings; DRF checks that for (parent, name) but not among root
        # categories, where the parent is null and the database's conditional constraint decides.
        if parent is None:
            roots = Category.objects.filter(parent__isnull=True, name=name)
            if self.instance is not None:
                roots = roots.exclude(pk=self.instance.pk)
            if roots.exists():
                raise serializers.ValidationError({"name": [Category.ROOT_NAME_TAKEN]}, code="unique")
        return attrs


class ProductSerializer(HistoryGuardedSerializer):
    barcode = ReadableCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    one_line = ("sku", "name")
    multiline = ("specification",)

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "category", "unit", "specification", "barcode", "tracking", "valuation_method",
            "unit_price", "reorder_point", "lead_time_days", "pack_size", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_barcode(self, value):
        return _optional_barcode(self, value)


class WarehouseSerializer(ReadableTextSerializer):
    one_line = ("code", "name")
    multiline = ("address",)

    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "address", "is_active"]


class LocationSerializer(HistoryGuardedSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    barcode = ReadableCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    one_line = ("code", "name")

    class Meta:
        model = Location
        fields = ["id", "warehouse", "warehouse_code", "code", "name", "barcode", "is_active"]

    def validate_barcode(self, value):
        return _optional_barcode(self, value)




@extend_schema_field(OpenApiTypes.BOOL)
class ExpiredField(serializers.ReadOnlyField):
    """Whether a lot (the field's source) is past its expiry date, today in the books' time zone;
    today is read once per answer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Past its expiry date, today in the books' time zone.")
        super().__init__(**kwargs)

    def to_representation(self, lot: Lot) -> bool:
        context = self.context
        if "today" not in context:
            context["today"] = books_today()
        return lot.expired_on(context["today"])


class LotSerializer(ReadableTextSerializer):
    """A lot and what it holds now. Made for a lot-tracked product; its product and code are fixed
    once saved (movements name it by them), its dates may be corrected."""

    CODE_INVALID = LOT_CODE_RULE
    NOT_TRACKED = "Product {sku} is not tracked by lot."
    FIXED = "A lot's {field} is fixed once it is saved; only its dates may change."
    ONLY_DATES = "Only a lot's dates change once it is saved: send expires_on or manufactured_on alone."
    MADE_AFTER_EXPIRY = "A lot cannot be made after it expires."

    code = serializers.RegexField(rf"^{LOT_CODE.pattern}$", max_length=MAX_LOT, error_messages={"invalid": CODE_INVALID})
    sku = serializers.CharField(source="product.sku", read_only=True)
    on_hand = serializers.DecimalField(**ON_HAND, read_only=True, help_text="Its stock now, over every location.")
    expired = ExpiredField(source="*")

    class Meta:
        model = Lot
        fields = ["id", "product", "sku", "code", "expires_on", "manufactured_on", "on_hand", "expired", "created_at"]
        read_only_fields = ["created_at"]

    def to_internal_value(self, data):
        if self.instance is not None and isinstance(data, Mapping):
            others = [field for field in data if field not in LotCorrectionSerializer.Meta.fields]
            if others:
                raise serializers.ValidationError({
                    field: [self.FIXED.format(field=field) if field in ("product", "code") else self.ONLY_DATES]
                    for field in others
                })
        return super().to_internal_value(data)

    def validate_product(self, product: Product) -> Product:
        if product.tracking != Tracking.LOT:
            raise serializers.ValidationError(self.NOT_TRACKED.format(sku=product.sku))
        return product

    def validate(self, attrs):
        made = attrs.get("manufactured_on", getattr(self.instance, "manufactured_on", None))
        expires = attrs.get("expires_on", getattr(self.instance, "expires_on", None))
        if made is not None and expires is not None and made > expires:
            raise serializers.ValidationError({"manufactured_on": [self.MADE_AFTER_EXPIRY]})
        return attrs


@closed
class LotCorrectionSerializer(serializers.ModelSerializer):
    """A saved lot's dates, corrected: the only fields that change once it is saved (any other
    field sent is a 400 naming it)."""

    class Meta:
        model = Lot
        fields = ["expires_on", "manufactured_on"]


def _optional_barcode(serializer: serializers.ModelSerializer, value: str | None) -> str | None:
    """An empty barcode means none; uniqueness is checked against the model's other records."""
    value = (value or "").strip() or None
    if value is not None:
        model = serializer.Meta.model
        clash = model.objects.filter(barcode=value)
        if serializer.instance is not None:
            clash = clash.exclude(pk=serializer.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(
                f"{model._meta.verbose_name} with this barcode already exists.", code="unique"
            )
    return value
