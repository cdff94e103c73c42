"""The ledger in admin: to read and search, never to change (rows are append-only).

The movement list shows what people look for (the SKU, WAREHOUSE/CODE labels in the direction the
stock went, the signed quantity) in columns that fit a laptop screen; the rest is on a movement's
page. Labels come from rows the list query joins (``list_select_related``), so a page costs the
same few queries however many rows it shows. Products and locations are picked by typing (admin's
own autocomplete), never from a list of them all.
"""
from datetime import date

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from catalog.models import Location, Warehouse
from common.admin import ReadOnlyAdmin
from common.ids import MAX_ID

from .legs import LEGS, placed_legs, route
from .models import ChainCheck, LedgerHead, Movement, MovementKind, PeriodClose, StockLevel

def _number(value) -> str:
    """A stored decimal as people write it: 1500.000 is 1500, 2.500 is 2.5."""
    return f"{value.normalize():f}"


def _signed(value) -> str:
    return f"{value.normalize():+f}"


def _movements_url(**filters) -> str:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return f"{reverse('admin:ledger_movement_changelist')}?{query}"


def _picked_id(raw: str | None) -> int | None:
    """An id from the query string; anything else is a wrong lookup (admin answers with its "?e=1")."""
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        raise IncorrectLookupParameters(f"Not an id: {raw!r}")
    return int(raw)


class AutocompleteFilter(admin.SimpleListFilter):
    """One related record, picked by typing into admin's autocomplete (the related admin's
    ``search_fields``) rather than from a list of them all: there may be ten thousand products.
    ``legs`` are the foreign keys that may hold it (a movement's location is either leg)."""

    template = "admin/ledger/autocomplete_filter.html"
    field: str
    legs: tuple[str, ...] = ()

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.source = model._meta.get_field(self.field)
        self.admin_site = model_admin.admin_site

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def related(self):
        return self.source.related_model.objects.all()

    def queryset(self, request, queryset):
        picked = _picked_id(self.value())
        if picked is None:
            return queryset
        match = Q()
        for leg in self.legs or (self.field,):
            match |= Q(**{f"{leg}_id": picked})
        return queryset.filter(match)

    def choices(self, changelist):
        widget = AutocompleteSelect(self.source, self.admin_site, attrs={"style": "width: 100%"})
        field = forms.ModelChoiceField(self.related(), required=False, widget=widget)
        element = f"filter-{self.parameter_name}"
        keep = [
            (name, value)
            for name, values in changelist.filter_params.items() if name != self.parameter_name
            for value in values
        ]
        yield {
            "id": element,
            "field": field.widget.render(self.parameter_name, self.value(), attrs={"id": element}),
            "keep": keep,
        }


def autocomplete_media() -> forms.Media:
    """What the autocomplete filters need on the page (admin's own select2 and autocomplete.js)."""
    return AutocompleteSelect(Movement._meta.get_field("product"), admin.site).media


class ProductFilter(AutocompleteFilter):
    title = "product"
    parameter_name = "product"
    field = "product"


class LocationFilter(AutocompleteFilter):
    title = "location"
    parameter_name = "location"
    field = "location"

    def related(self):
        return Location.objects.select_related("warehouse")


class EitherLegLocationFilter(LocationFilter):
    """A movement at a location: stock left it or came in (``location`` or ``to_location``)."""

    legs = tuple(leg.location for leg in LEGS)


class WarehouseFilter(admin.SimpleListFilter):
    """Rows at any location of one warehouse (there are few warehouses: a plain list)."""

    title = "warehouse"
    parameter_name = "warehouse"
    legs: tuple[str, ...] = ("location",)

    def lookups(self, request, model_admin):
        return [(str(pk), code) for pk, code in Warehouse.objects.values_list("pk", "code")]

    def queryset(self, request, queryset):
        picked = _picked_id(self.value())
        if picked is None:
            return queryset
        locations = Location.objects.filter(warehouse_id=picked).values("pk")
        match = Q()
        for leg in self.legs:
            match |= Q(**{f"{leg}_id__in": locations})
        return queryset.filter(match)


class EitherLegWarehouseFilter(WarehouseFilter):
    legs = tuple(leg.location for leg in LEGS)


class AutocompleteFilterMedia:
    """For a ModelAdmin whose list has autocomplete filters: loads what they need."""

    @property
    def media(self):
        return super().media + autocomplete_media()


class MovementChangeList(ChangeList):
    """Admin's list, with a date hierarchy that reads the first and last business time of the rows
    shown (two probes of the ``occurred_at`` index) instead of every distinct year, month or day
    (admin's own: a scan of the whole ledger on each page). A period between them without movements
    is offered too, and is an empty page."""

    def date_links(self) -> dict:
        """What ``admin/date_hierarchy.html`` shows: the period to go back to and the ones to pick."""
        field = self.date_hierarchy
        year, month, day = (self.params.get(f"{field}__{part}") for part in ("year", "month", "day"))

        def link(filters: dict) -> str:
            return self.get_query_string(filters, [f"{field}__"])

        if year and month and day:
            picked = date(int(year), int(month), int(day))
            return {
                "show": True,
                "back": {"link": link({f"{field}__year": year, f"{field}__month": month}),
                         "title": capfirst(date_format(picked, "YEAR_MONTH_FORMAT"))},
                "choices": [{"title": capfirst(date_format(picked, "MONTH_DAY_FORMAT"))}],
            }
        span = self.queryset.aggregate(first=Min(field), last=Max(field))
        if span["first"] is None:
            return {"show": bool(year), "back": {"link": link({}), "title": "All dates"}, "choices": []}
        first, last = timezone.localtime(span["first"]), timezone.localtime(span["last"])
        if not year and first.year == last.year:  # one year (or month) only: start there, as admin does
            year = first.year
            month = first.month if first.month == last.month else None
        if year and month:
            days = (date(first.year, first.month, n) for n in range(first.day, last.day + 1))
            return {
                "show": True,
                "back": {"link": link({f"{field}__year": year}), "title": str(year)},
                "choices": [
                    {"link": link({f"{field}__year": year, f"{field}__month": month, f"{field}__day": d.day}),
                     "title": capfirst(date_format(d, "MONTH_DAY_FORMAT"))}
                    for d in days
                ],
            }
        if year:
            months = (date(first.year, n, 1) for n in range(first.month, last.month + 1))
            return {
                "show": True,
                "back": {"link": link({}), "title": "All dates"},
                "choices": [
                    {"link": link({f"{field}__year": year, f"{field}__month": m.month}),
                     "title": capfirst(date_format(m, "YEAR_MONTH_FORMAT"))}
                    for m in months
                ],
            }
        return {
            "show": True,
            "back": None,
            "choices": [{"link": link({f"{field}__year": str(y)}), "title": str(y)} for y in range(first.year, last.year + 1)],
        }


def _route(movement: Movement) -> tuple[tuple | None, tuple | None]:
    """(where the stock came from, where it went), each (location, on hand after) or None."""
    return tuple(
        None if leg is None else (getattr(movement, leg.location), getattr(movement, leg.balance_field))
        for leg in route(movement)
    )


def _label(location) -> str:
    return format_html('<span class="nowrap">{}</span>', str(location))


@admin.register(Movement)
class MovementAdmin(AutocompleteFilterMedia, ReadOnlyAdmin):
    refusal = "The ledger is append-only: a movement is never changed or deleted; post a reversal to correct one."

    list_display = ("number", "occurred", "kind_label", "sku", "route", "quantity_moved", "on_hand_after", "reference", "user")
    list_display_links = ("number",)
    list_filter = ("kind", ProductFilter, EitherLegLocationFilter, EitherLegWarehouseFilter, "occurred_at")
    search_fields = ("product__sku", "reference", "reason", "idempotency_key", "=position")
    list_select_related = ("product", "location__warehouse", "to_location__warehouse", "user")
    date_hierarchy = "occurred_at"
    ordering = ("-position",)
    sortable_by = ("number", "occurred")  # the indexed ones: a million rows sort by nothing else quickly
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would each scan the ledger
    list_per_page = 50

    fieldsets = (
        (None, {"fields": ("kind", "product", "route", "quantity_moved", "occurred_at", "user", "reference", "reason")}),
        ("Stock", {"fields": ("legs",)}),
        ("Count", {"fields": ("expected_quantity", "counted_quantity")}),
        ("Cost", {"fields": ("unit_cost",)}),
        ("Correction", {"fields": ("reverses_link", "reversed_by_link")}),
        ("Ledger record", {"fields": ("position", "recorded_at", "idempotency_key", "request_fingerprint", "hash")}),
    )
    readonly_fields = (
        "kind", "product", "route", "quantity_moved", "occurred_at", "user", "reference", "reason", "legs",
        "expected_quantity", "counted_quantity", "unit_cost", "reverses_link", "reversed_by_link",
        "position", "recorded_at", "idempotency_key", "request_fingerprint", "hash",
    )

    # The ledger's columns need the width: these pages leave out admin's navigation sidebar (the
    # breadcrumbs and the home page still lead everywhere), so the list fits a 1,280 px screen.
    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, context)

    def get_changelist(self, request, **kwargs):
        return MovementChangeList

    def get_queryset(self, request):
        # A movement's page names its product and locations too: one query, as in the list.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in self.fieldsets:
            fields = options["fields"]
            if name == "Count" and (obj is None or obj.kind != MovementKind.COUNT):
                continue
            if name == "Cost" and (obj is None or obj.unit_cost is None):
                continue
            if name == "Correction" and obj is not None:
                fields = ("reverses_link",) if obj.reverses_id else ("reversed_by_link",)
            fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    # The list's columns.

    @admin.display(description="#", ordering="position")
    def number(self, movement):
        return f"#{movement.position}"

    @admin.display(description="occurred", ordering="occurred_at")
    def occurred(self, movement):
        at = timezone.localtime(movement.occurred_at)
        return format_html('<span class="nowrap">{}</span> <span class="nowrap">{}</span>', f"{at:%Y-%m-%d}", f"{at:%H:%M}")

    @admin.display(description="kind")
    def kind_label(self, movement):
        if movement.reverses_id is None:
            return movement.get_kind_display()
        original = reverse("admin:ledger_movement_change", args=(movement.reverses_id,))
        return format_html('reversal of <a href="{}">#{}</a>', original, movement.reverses_id)

    @admin.display(description="SKU")
    def sku(self, movement):
        return format_html('<span class="nowrap">{}</span>', movement.product.sku)

    @admin.display(description="movement")
    def route(self, movement):
        source, target = _route(movement)
        if source and target:
            return format_html("{} → {}", _label(source[0]), _label(target[0]))
        if target:
            return format_html("→ {}", _label(target[0]))
        return format_html("{} →", _label(source[0])) if movement.delta else _label(source[0])

    @admin.display(description="qty")
    def quantity_moved(self, movement):
        """A transfer's quantity (the arrow says which way); one location's signed change."""
        return _number(movement.quantity) if movement.to_location_id else _signed(movement.delta)

    @admin.display(description="on hand after")
    def on_hand_after(self, movement):
        """The balance each location was left with, in the order the movement column names them."""
        legs = [leg for leg in _route(movement) if leg is not None]
        return format_html_join(" / ", '<span title="{}">{}</span>', ((str(loc), _number(qty)) for loc, qty in legs))

    # The detail page's own fields.

    @admin.display(description="at each location")
    def legs(self, movement):
        rows = [
            (getattr(movement, leg.location), leg.change(movement.delta), getattr(movement, leg.balance_field))
            for leg, _ in placed_legs(movement)
        ]
        return format_html_join(
            mark_safe("<br>"), '<a href="{}">{}</a>: {}, on hand after {}',
            ((_movements_url(location=loc.pk), str(loc), _signed(change), _number(after)) for loc, change, after in rows),
        )

    @admin.display(description="reverses")
    def reverses_link(self, movement):
        return self._link(Movement.objects.filter(pk=movement.reverses_id))

    @admin.display(description="reversed by")
    def reversed_by_link(self, movement):
        return self._link(Movement.objects.filter(reverses_id=movement.pk)) or "not reversed"

    def _link(self, queryset):
        other = queryset.select_related(*self.list_select_related).first()
        if other is None:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:ledger_movement_change", args=(other.pk,)), str(other))


@admin.register(StockLevel)
class StockLevelAdmin(AutocompleteFilterMedia, ReadOnlyAdmin):
    """The write side's on-hand per product and location (exact, changed only by posting)."""

    refusal = "Stock levels change only by posting movements."
    list_display = ("sku", "location", "quantity", "last_occurred_at")
    list_filter = (ProductFilter, LocationFilter, WarehouseFilter)
    search_fields = ("product__sku", "location__code")
    list_select_related = ("product", "location__warehouse")
    show_full_result_count = False  # a row per product and location: there may be millions
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="SKU", ordering="product__sku")
    def sku(self, level):
        return level.product.sku


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    refusal = "The ledger head moves only when movements are posted."
    list_display = ("position", "hash", "recorded_at", "closed_before")


@admin.register(ChainCheck)
class ChainCheckAdmin(ReadOnlyAdmin):
    """Every walk of the hash chain (the API's, ``verify_ledger``'s, the nightly task's) and what it found."""

    refusal = "A chain check is a record of what a verification found; it is never changed."
    list_display = ("checked_at", "intact", "events", "head_position", "first_broken_position", "problem_code")
    list_filter = ("intact",)
    date_hierarchy = "checked_at"


@admin.register(PeriodClose)
class PeriodCloseAdmin(ReadOnlyAdmin):
    """The record of closing the books (and reopening them), newest first: closed and reopened in the
    API only, where the rules and the four eyes are kept."""

    refusal = "A period close is a record; close or reopen the books through the API, as a new row."
    list_display = ("sequence", "action", "through", "closed_before", "user", "recorded_at", "reason")
    list_filter = ("action",)
    list_select_related = ("user",)
    ordering = ("-sequence",)
    date_hierarchy = "recorded_at"
