"""The ledger in admin: to read and search, never to change (rows are append-only)."""
from django.contrib import admin

from .models import LedgerHead, Movement, StockLevel


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdmin):
    list_display = ("position", "kind", "product", "location", "to_location", "delta", "balance_after", "occurred_at", "user", "reference")
    list_filter = ("kind", "location__warehouse", "occurred_at")
    search_fields = ("product__sku", "reference", "reason", "idempotency_key", "=position")
    list_select_related = ("product", "location__warehouse", "to_location__warehouse", "user")
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "location", "quantity")
    list_filter = ("location__warehouse",)
    search_fields = ("product__sku", "location__code")
    list_select_related = ("product", "location__warehouse")


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    list_display = ("position", "hash")
