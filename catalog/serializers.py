from rest_framework import serializers

from .models import Category, Location, Product, Warehouse


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "parent"]

    def validate(self, attrs):
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        if self.instance is not None and self.instance.would_be_own_ancestor(parent):
            raise serializers.ValidationError({"parent": [Category.CYCLE_MESSAGE]})
        return attrs


class ProductSerializer(serializers.ModelSerializer):
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


class LocationSerializer(serializers.ModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = Location
        fields = ["id", "warehouse", "warehouse_code", "code", "name", "is_active"]
