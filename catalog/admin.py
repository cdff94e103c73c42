from django import forms
from django.contrib import admin

from .errors import HistoryProtected
from .models import Category, Location, Product, Warehouse
from .services import frozen_fields, refuse_history_rewrite


@admin.action(description="Deactivate the selected records (they stay in the ledger's history)")
def deactivate(modeladmin, request, queryset):
    for record in queryset.filter(is_active=True):
        record.is_active = False
        record.save(update_fields=["is_active"])


@admin.action(description="Activate the selected records")
def activate(modeladmin, request, queryset):
    for record in queryset.filter(is_active=False):
        record.is_active = True
        record.save(update_fields=["is_active"])


class HistoryGuardedForm(forms.ModelForm):
    """Refuses, as a form error, a change to a field that the ledger's history depends on."""

    def clean(self):
        cleaned_data = super().clean()
        try:
            refuse_history_rewrite(record=self.instance, changes=cleaned_data)
        except HistoryProtected as refusal:
            self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
        return cleaned_data


class HistoryGuardedAdmin(admin.ModelAdmin):
    """On the change page of a record that movements refer to, its frozen fields are read-only."""

    form = HistoryGuardedForm

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return readonly + tuple(f for f in frozen_fields(record=obj) if f not in readonly)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    list_filter = ("parent",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


@admin.register(Product)
class ProductAdmin(HistoryGuardedAdmin):
    list_display = ("sku", "name", "category", "unit", "barcode", "unit_price", "reorder_point", "is_active")
    list_filter = ("is_active", "unit", "category")
    search_fields = ("sku", "name", "barcode")
    list_select_related = ("category",)
    autocomplete_fields = ("category",)
    readonly_fields = ("created_at", "updated_at")
    actions = [deactivate, activate]


class LocationInline(admin.TabularInline):
    model = Location
    form = HistoryGuardedForm
    extra = 0
    fields = ("code", "name", "is_active")


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    actions = [deactivate, activate]
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(HistoryGuardedAdmin):
    list_display = ("code", "warehouse", "name", "is_active")
    list_filter = ("is_active", "warehouse")
    search_fields = ("code", "name", "warehouse__code")
    list_select_related = ("warehouse",)
    actions = [deactivate, activate]
