"""The catalog in admin: managers keep products, warehouses and locations.

A record's page links to its movements and stock (the ledger's admin lists, filtered to it, named by
URL: the catalog imports nothing of the ledger). A refusal (a field its history depends on, changed
after the page was shown) is a message to the user and one log line, not a traceback.
"""
import logging

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from .errors import HistoryProtected
from .models import Category, Location, Lot, Product, Warehouse
from .services import frozen_fields, history_guarded, refuse_history_rewrite, referred_to_by_ledger

logger = logging.getLogger(__name__)


def _log_refusal(model, pk, refusal: HistoryProtected) -> None:
    """One line: a refusal is the rule at work, not a fault (no traceback)."""
    logger.warning("admin refused a change to %s %r: %s", model._meta.model_name, str(pk), refusal.message)


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
            _log_refusal(type(self.instance), self.instance.pk, refusal)
            self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
        return cleaned_data


# Where a record's movements and stock are listed: (label, URL name, permission, query parameter).
_LEDGER_LINKS = (
    ("Movements", "admin:ledger_movement_changelist", "ledger.view_movement"),
    ("Stock by location", "admin:ledger_stocklevel_changelist", "ledger.view_stocklevel"),
)
_STOCK_API = ("Stock (API)", "stock-list", "projections.view_productlocationstock")


class LedgerLinksAdmin(admin.ModelAdmin):
    """A record's page links to its movements and its stock, each list filtered to the record
    (``?product=``, ``?location=`` or ``?warehouse=``: a movement at a location is either leg)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {"ledger_links": self._ledger_links(request, object_id), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def _ledger_links(self, request, object_id) -> list[tuple[str, str]]:
        if not (object_id.isascii() and object_id.isdigit()):
            return []
        parameter = self.opts.model_name
        links = []
        for label, name, permission in (*_LEDGER_LINKS, _STOCK_API):
            if not request.user.has_perm(permission):
                continue
            try:
                links.append((label, f"{reverse(name)}?{parameter}={object_id}"))
            except NoReverseMatch:  # that app is not installed
                continue
        return links


class HistoryGuardedAdmin(LedgerLinksAdmin):
    """On the change page of a record that movements refer to, its frozen fields are read-only;
    a change that gets past the form anyway (a movement committed meanwhile) is refused by the
    database, and that refusal is a message too."""

    form = HistoryGuardedForm

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return readonly + tuple(f for f in frozen_fields(record=obj) if f not in readonly)

    def save_model(self, request, obj, form, change):
        with history_guarded(record=obj, changes=form.cleaned_data):
            super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except HistoryProtected as refusal:  # from save_model; admin's transaction has rolled back
            _log_refusal(self.model, object_id, refusal)
            self.message_user(request, refusal.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_deleted_objects(self, objs, request):
        """A record that movements refer to is never deleted (the ledger protects it): say so once
        per record rather than list every movement, of which there may be millions."""
        kept = [record for record in objs if referred_to_by_ledger(record=record)]
        if not kept:
            return super().get_deleted_objects(objs, request)
        protected = [
            f"{record._meta.verbose_name.capitalize()} {record}: movements in the ledger refer to it; deactivate it instead."
            for record in kept
        ]
        return [], {}, set(), protected


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    list_filter = ("parent",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


@admin.register(Product)
class ProductAdmin(HistoryGuardedAdmin):
    list_display = (
        "sku", "name", "category", "unit", "tracking", "valuation_method", "barcode", "unit_price", "reorder_point", "is_active",
    )
    list_filter = ("is_active", "tracking", "valuation_method", "unit", "category")
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
class WarehouseAdmin(LedgerLinksAdmin):
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    actions = [deactivate, activate]
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(HistoryGuardedAdmin):
    list_display = ("code", "warehouse", "name", "barcode", "is_active")
    list_filter = ("is_active", "warehouse")
    search_fields = ("code", "name", "barcode", "warehouse__code")
    list_select_related = ("warehouse",)
    actions = [deactivate, activate]

    def get_queryset(self, request):
        # Its label is WAREHOUSE/CODE: the autocomplete (filters in the ledger's admin) names each.
        return super().get_queryset(request).select_related("warehouse")


@admin.register(Lot)
class LotAdmin(LedgerLinksAdmin):
    """Lots are made by the receipts that name them, or here beforehand; their code and product are
    what movements refer to, so only the dates may change once saved."""

    list_display = ("code", "product", "expires_on", "manufactured_on", "created_at")
    list_filter = (("expires_on", admin.DateFieldListFilter),)
    search_fields = ("code", "product__sku")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)
    date_hierarchy = "expires_on"

    def get_readonly_fields(self, request, obj=None):
        return ("created_at",) if obj is None else ("product", "code", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False
