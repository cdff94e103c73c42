"""The valuation in admin: a product's page shows its method's figures (its value, last cost and
remaining cost layers per warehouse); the cost entries and layers are lists to read."""
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from catalog.models import Product
from common.admin import ReadOnlyAdmin

from .models import CostEntry, CostLayer, ProductValuation
from .selectors import product_layers


def layers_table(product: Product) -> str:
    valuation = ProductValuation.objects.filter(product_id=product.pk).first()
    if valuation is None:
        return "Not valued yet (no movements, or the valuation has not caught up)."
    summary = format_html(
        "<p>Valued by <b>{}</b>: {} on hand worth <b>{}</b>; last known unit cost {}.{}</p>",
        valuation.get_method_display(), valuation.quantity.normalize(), valuation.value,
        valuation.last_cost if valuation.last_cost is not None else "none",
        "" if valuation.method == product.valuation_method else " The method was changed: it is re-valued at the next catch-up.",
    )
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((layer.warehouse.code, layer.seq or "pool", layer.received_at or "—", layer.unit_cost, layer.quantity.normalize(), layer.value)
         for layer in product_layers(product.pk)),
    )
    return format_html(
        "{}<table><thead><tr><th>warehouse</th><th>layer</th><th>received</th><th>unit cost</th><th>quantity</th>"
        "<th>value</th></tr></thead><tbody>{}</tbody></table>", summary, rows or format_html("<tr><td colspan=6>none left</td></tr>"),
    )


class ShowsValuation:
    """Adds the product's valuation (read-only) to its change page, for those who may read it."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and self._reads_valuation(request):
            fieldsets.append(("Valuation", {"fields": ["cost_layers"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + ("cost_layers",) if obj is not None and self._reads_valuation(request) else readonly

    @admin.display(description="Value and cost layers")
    def cost_layers(self, obj) -> str:
        return layers_table(obj)

    @staticmethod
    def _reads_valuation(request) -> bool:
        return request.user.has_perm("valuation.view_costlayer")


_registered = type(admin.site._registry[Product])
admin.site.unregister(Product)
admin.site.register(Product, type(_registered.__name__, (ShowsValuation, _registered), {}))


@admin.register(CostEntry)
class CostEntryAdmin(ReadOnlyAdmin):
    refusal = "Cost entries are derived from the ledger; rebuild the valuation instead."
    list_display = ("movement_id", "occurred_at", "product", "location", "flow", "reversal", "quantity", "value", "cogs", "flagged")
    list_filter = ("flow", "flagged", "reversal")
    list_select_related = ("product", "location__warehouse")
    search_fields = ("product__sku",)
    ordering = ("-occurred_at", "-movement_id")


@admin.register(CostLayer)
class CostLayerAdmin(ReadOnlyAdmin):
    refusal = "Cost layers are derived from the ledger; rebuild the valuation instead."
    list_display = ("product", "warehouse", "seq", "received_at", "unit_cost", "quantity", "value")
    list_filter = ("warehouse",)
    list_select_related = ("product", "warehouse")
    search_fields = ("product__sku",)
