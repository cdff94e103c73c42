from django.contrib import admin

from ledger.admin import ReadOnlyAdmin

from .models import Checkpoint, LocationStock, ProductLocationStock, ProductStock


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "position", "events_applied", "updated_at", "rebuilt_at", "error", "failed_at")


@admin.register(ProductLocationStock)
class ProductLocationStockAdmin(ReadOnlyAdmin):
    list_display = ("product", "location", "quantity")
    list_filter = ("location__warehouse",)
    search_fields = ("product__sku", "location__code")
    list_select_related = ("product", "location__warehouse")


@admin.register(ProductStock)
class ProductStockAdmin(ReadOnlyAdmin):
    list_display = ("product", "quantity", "received_quantity", "received_value")
    search_fields = ("product__sku",)
    list_select_related = ("product",)


@admin.register(LocationStock)
class LocationStockAdmin(ReadOnlyAdmin):
    list_display = ("location", "quantity")
    list_filter = ("location__warehouse",)
    list_select_related = ("location__warehouse",)
