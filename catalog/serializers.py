from rest_framework import serializers

from . import services
from .models import Category, Location, Product, Warehouse


class HistoryGuardedSerializer(serializers.ModelSerializer):
    """Refuses (409 ``history_protected``) a change to a field that the ledger's history depends on."""

    def update(self, instance, validated_data):
        with services.history_guarded(record=instance, changes=validated_data):
            return super().update(instance, validated_data)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "parent"]

    def validate(self, attrs):
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        name = attrs.get("name", getattr(self.instance, "name", None))
        if self.instance is not None and self.instance.would_be_own_ancestor(parent):
            raise serializers.ValidationError({"parent": [Category.CYCLE_MESSAGE]})
        # Names are unique among siblings; DRF checks that for (parent, name) but not among root
        # categories, where the parent is null and the database's conditional constraint decides.
        if parent is None:
            roots = Category.objects.filter(parent__isnull=True, name=name)
            if self.instance is not None:
                roots = roots.exclude(pk=self.instance.pk)
            if roots.exists():
                raise serializers.ValidationError({"name": [Category.ROOT_NAME_TAKEN]})
        return attrs


class ProductSerializer(HistoryGuardedSerializer):
    barcode = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "category", "unit", "specification", "barcode",
            "unit_price", "reorder_point", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_barcode(self, value):
        """An empty barcode means none; uniqueness is checked against the other products."""
        value = (value or "").strip() or None
        if value is not None:
            clash = Product.objects.filter(barcode=value)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError("product with this barcode already exists.")
        return value


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "address", "is_active"]


class LocationSerializer(HistoryGuardedSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = Location
        fields = ["id", "warehouse", "warehouse_code", "code", "name", "is_active"]
