"""The projections in admin, to read: stock named by SKU and WAREHOUSE/CODE, filtered like the ledger.

A row has nothing more to show than its list does, so the lists link to no row pages.
"""
from django.contrib import admin

from ledger.admin import AutocompleteFilterMedia, LocationFilter, ProductFilter, ReadOnlyAdmin, WarehouseFilter

from .models import Checkpoint, LocationStock, ProductLocationStock, ProductStock

REBUILT = "Projections are rebuilt from the ledger, never edited."


class ProjectionAdmin(ReadOnlyAdmin):
    refusal = REBUILT
    list_display_links = None


class StockAdmin(AutocompleteFilterMedia, ProjectionAdmin):
    show_facets = admin.ShowFacets.NEVER


@admin.display(description="SKU", ordering="product__sku")
def sku(row):
    return row.product.sku


@admin.display(description="product", ordering="product__name")
def product_name(row):
    return row.product.name


@admin.register(Checkpoint)
class CheckpointAdmin(ProjectionAdmin):
    list_display = ("name", "position", "events_applied", "updated_at", "rebuilt_at", "error", "failed_at")


@admin.register(ProductLocationStock)
class ProductLocationStockAdmin(StockAdmin):
    list_display = (sku, product_name, "location", "quantity")
    list_filter = (ProductFilter, LocationFilter, WarehouseFilter)
    search_fields = ("product__sku", "location__code")
    list_select_related = ("product", "location__warehouse")


@admin.register(ProductStock)
class ProductStockAdmin(StockAdmin):
    list_display = (sku, product_name, "quantity", "received_quantity", "received_value")
    list_filter = (ProductFilter,)
    search_fields = ("product__sku",)
    list_select_related = ("product",)


@admin.register(LocationStock)
class LocationStockAdmin(StockAdmin):
    list_display = ("location", "quantity")
    list_filter = (LocationFilter, WarehouseFilter)
    search_fields = ("location__code", "location__warehouse__code")
    list_select_related = ("location__warehouse",)
