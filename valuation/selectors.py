"""Reads of the valuation: value on hand (now, as of a business time, as of a ledger position),
cost flows per period, the last issue of each product, a product's layers, and verification.

As of a business time ``as_of``: the entries dated up to it (the books as they stand now, about
then). As of a position ``position``: what the ledger up to that position said; the entries of
positions up to it, except for a product re-valued since by a backdated movement recorded after
that position: that product is replayed from the ledger up to the position (``engine``). Both at
once: the ledger up to ``position``, dated up to ``as_of``. Each equals a replay.

A location's value is its share, by quantity, of its product's value in its warehouse (the level
costs are kept at, ``engine``), rounded to the ten-thousandth.
"""
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Max, Q, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from catalog.models import Category, Location, Product, Warehouse
from ledger.models import Movement
from ledger.selectors import head_position

from . import engine
from .engine import money
from .models import Backdating, CostEntry, CostLayer, ValuationCheckpoint
from .services import CHECKPOINT, product_events, warehouses_of_locations

ZERO = Decimal(0)
GROUPS = ("product", "category", "warehouse", "location")
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
FLOW_GROUPS = ("category", "product")


def _sum(name: str, **kwargs) -> Sum:
    """A decimal column summed exactly: on SQLite by the projections' exact sum (``projections.exact``:
    SQLite would add floats), read back as text."""
    if connection.vendor == "sqlite":
        return Sum(name, function="exact_sum", output_field=CharField(), **kwargs)
    return Sum(name, **kwargs)


def _decimal(value) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _scoped(entries, *, product=None, category=None, warehouse=None):
    """Cost entries of one product, category and/or warehouse (None: any)."""
    if product is not None:
        entries = entries.filter(product_id=product)
    if category is not None:
        entries = entries.filter(product__category_id=category)
    if warehouse is not None:
        entries = entries.filter(warehouse_id=warehouse)
    return entries


# -- value on hand ------------------------------------------------------------------------------
def _entries(*, as_of: datetime | None, position: int | None, product=None, warehouse=None, category=None):
    entries = CostEntry.objects.all()
    if as_of is not None:
        entries = entries.filter(occurred_at__lte=as_of)
    if position is not None:
        entries = entries.filter(movement_id__lte=position)
    return _scoped(entries, product=product, category=category, warehouse=warehouse)


def _replayed_products(position: int | None, product=None, category=None) -> set[int]:
    """Products whose stored entries do not say what the ledger up to ``position`` said."""
    if position is None:
        return set()
    marks = Backdating.objects.filter(position__gt=position)
    if product is not None:
        marks = marks.filter(product_id=product)
    if category is not None:
        marks = marks.filter(product__category_id=category)
    return set(marks.values_list("product_id", flat=True))


def _cells(*, as_of, position, product=None, warehouse=None, category=None) -> dict[tuple[int, int, int], Decimal]:
    """Quantity per (product, warehouse, location), and the value per (product, warehouse) under
    location 0."""
    replayed = _replayed_products(position, product, category)
    entries = _entries(as_of=as_of, position=position, product=product, warehouse=warehouse, category=category)
    if replayed:
        entries = entries.exclude(product_id__in=replayed)
    quantities: dict[tuple[int, int, int], Decimal] = {}
    values: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    rows = entries.values_list("product_id", "warehouse_id", "location_id").annotate(q=_sum("quantity"), v=_sum("value"))
    for product_id, warehouse_id, location_id, quantity, value in rows.order_by():
        quantities[(product_id, warehouse_id, location_id)] = _decimal(quantity)
        values[(product_id, warehouse_id)] += _decimal(value)
    if replayed:
        warehouse_of = warehouses_of_locations()
        methods = dict(Product.objects.filter(id__in=replayed).values_list("id", "valuation_method"))
        for product_id in replayed:
            _, made = engine.value_product(methods[product_id], product_events(product_id, upto=position), warehouse_of)
            for entry in made:
                if (as_of is not None and entry.occurred_at > as_of) or (warehouse is not None and entry.warehouse != warehouse):
                    continue
                key = (product_id, entry.warehouse, entry.location)
                quantities[key] = quantities.get(key, ZERO) + entry.quantity
                values[(product_id, entry.warehouse)] += entry.value
    return quantities, values


@dataclass
class _Line:
    quantity: Decimal = ZERO
    value: Decimal = ZERO
    ids: dict = field(default_factory=dict)


def valuation_on_hand(*, as_of: datetime | None = None, position: int | None = None, group_by: str = "product",
                      product: int | None = None, warehouse: int | None = None, category: int | None = None) -> list[dict]:
    """Quantity and value on hand per ``group_by`` (product, category, warehouse or location), as of
    a business time and/or a ledger position (neither: everything the valuation has applied).
    Each line: the group's ids and names, ``quantity`` and ``value`` (Decimal); lines with neither
    are left out. Ordered by the group's code (SKU, category name, warehouse code, location)."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    quantities, values = _cells(as_of=as_of, position=position, product=product, warehouse=warehouse, category=category)
    warehouse_quantity: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for (product_id, warehouse_id, _), quantity in quantities.items():
        warehouse_quantity[(product_id, warehouse_id)] += quantity
    lines: dict = defaultdict(_Line)
    products = {p["id"]: p for p in Product.objects.filter(id__in={k[0] for k in values}).values("id", "sku", "name", "category_id")}
    if group_by in ("product", "category", "warehouse"):
        for (product_id, warehouse_id), value in values.items():
            quantity = warehouse_quantity.get((product_id, warehouse_id), ZERO)
            key = {"product": product_id, "category": products[product_id]["category_id"], "warehouse": warehouse_id}[group_by]
            lines[key].quantity += quantity
            lines[key].value += value
    else:
        for (product_id, warehouse_id, location_id), quantity in quantities.items():
            total = warehouse_quantity[(product_id, warehouse_id)]
            value = values.get((product_id, warehouse_id), ZERO)
            share = value if quantity == total else (money(value * quantity / total) if total else ZERO)
            lines[location_id].quantity += quantity
            lines[location_id].value += share
    return _named(group_by, {key: line for key, line in lines.items() if line.quantity or line.value}, products)


def _named(group_by: str, lines: dict, products: dict) -> list[dict]:
    named = []
    if group_by == "product":
        categories = dict(Category.objects.filter(id__in={p["category_id"] for p in products.values()}).values_list("id", "name"))
        for key, line in lines.items():
            p = products[key]
            named.append({"product_id": key, "sku": p["sku"], "name": p["name"], "category_id": p["category_id"],
                          "category_name": categories.get(p["category_id"]), "quantity": line.quantity, "value": line.value})
        named.sort(key=lambda row: row["sku"])
    elif group_by == "category":
        categories = dict(Category.objects.filter(id__in=[k for k in lines if k is not None]).values_list("id", "name"))
        for key, line in lines.items():
            named.append({"category_id": key, "category_name": categories.get(key), "quantity": line.quantity, "value": line.value})
        named.sort(key=lambda row: (row["category_name"] is None, row["category_name"] or ""))
    elif group_by == "warehouse":
        warehouses = {w["id"]: w for w in Warehouse.objects.filter(id__in=list(lines)).values("id", "code", "name")}
        for key, line in lines.items():
            w = warehouses[key]
            named.append({"warehouse_id": key, "warehouse_code": w["code"], "warehouse_name": w["name"],
                          "quantity": line.quantity, "value": line.value})
        named.sort(key=lambda row: row["warehouse_code"])
    else:
        locations = {
            loc["id"]: loc for loc in Location.objects.filter(id__in=list(lines)).values("id", "code", "warehouse_id", "warehouse__code")
        }
        for key, line in lines.items():
            loc = locations[key]
            named.append({"location_id": key, "location_code": loc["code"], "warehouse_id": loc["warehouse_id"],
                          "warehouse_code": loc["warehouse__code"], "quantity": line.quantity, "value": line.value})
        named.sort(key=lambda row: (row["warehouse_code"], row["location_code"]))
    return named


# -- cost flows ---------------------------------------------------------------------------------
def cost_flows(*, start: datetime, end: datetime, period: str = "month", group_by: str = "category",
               product: int | None = None, category: int | None = None, warehouse: int | None = None) -> list[dict]:
    """Per period (in the books' time zone, ``TIME_ZONE``) and category or product, over business
    times in [start, end): ``receipts_value`` and ``received_quantity`` (receipts net of their
    reversals), ``cogs`` and ``issued_quantity`` (issues net of theirs), ``adjustments_value`` (counts'
    gains less losses). Transfers are no flow. Ordered by period, then the group's name."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    if group_by not in FLOW_GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(FLOW_GROUPS)}")
    entries = _scoped(CostEntry.objects.filter(occurred_at__gte=start, occurred_at__lt=end).exclude(flow="transfer"),
                      product=product, category=category, warehouse=warehouse)
    group = "product_id" if group_by == "product" else "product__category_id"
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = (
        entries.annotate(period_start=PERIODS[period]("occurred_at", tzinfo=zone))
        .values("period_start", group)
        .annotate(
            receipts_value=_sum("value", filter=Q(flow="receipt")),
            received_quantity=_sum("quantity", filter=Q(flow="receipt")),
            cogs=_sum("cogs"),
            issued_quantity=_sum("quantity", filter=Q(flow="issue")),
            adjustments_value=_sum("value", filter=Q(flow="count")),
        )
        .order_by()
    )
    names = _group_names(group_by)
    flows = []
    for row in rows:
        key = row[group]
        line = {
            "period_start": row["period_start"],
            "receipts_value": _decimal(row["receipts_value"]),
            "received_quantity": _decimal(row["received_quantity"]),
            "cogs": _decimal(row["cogs"]),
            "issued_quantity": -_decimal(row["issued_quantity"]),
            "adjustments_value": _decimal(row["adjustments_value"]),
        }
        if group_by == "product":
            sku, name, category_id, category_name = names[key]
            line.update(product_id=key, sku=sku, name=name, category_id=category_id, category_name=category_name)
        else:
            line.update(category_id=key, category_name=names.get(key))
        flows.append(line)
    label = (lambda line: line["sku"]) if group_by == "product" else (lambda line: line["category_name"] or "\uffff")
    flows.sort(key=lambda line: (line["period_start"], label(line)))
    return flows


def _group_names(group_by: str) -> dict:
    """A product's SKU, name, category and its name (by product); a category's name (by category)."""
    categories = dict(Category.objects.values_list("id", "name"))
    if group_by == "product":
        return {p: (sku, name, category, categories.get(category))
                for p, sku, name, category in Product.objects.values_list("id", "sku", "name", "category_id")}
    return categories


# -- slow-moving --------------------------------------------------------------------------------
def last_issue_times(*, as_of: datetime | None = None, product: int | None = None, category: int | None = None,
                     warehouse: int | None = None) -> dict[int, datetime]:
    """Each product's last issue (not itself reversed) dated up to ``as_of``: {product id: time}.
    A product never issued is not in it."""
    entries = CostEntry.objects.filter(flow="issue", reversal=False)
    reversed_ = CostEntry.objects.filter(flow="issue", reversal=True)
    if as_of is not None:
        entries = entries.filter(occurred_at__lte=as_of)
        reversed_ = reversed_.filter(occurred_at__lte=as_of)
    entries = _scoped(entries, product=product, category=category, warehouse=warehouse)
    undone = Movement.objects.filter(position__in=reversed_.values("movement_id")).values("reverses_id")
    entries = entries.exclude(movement_id__in=undone)
    return dict(entries.values_list("product_id").annotate(last=Max("occurred_at")).order_by())


# -- a product's layers, the status, verification ----------------------------------------------
def product_layers(product: int) -> list[CostLayer]:
    return list(CostLayer.objects.filter(product_id=product).select_related("warehouse").order_by("warehouse__code", "seq"))


@dataclass(frozen=True)
class ValuationStatus:
    position: int
    head: int
    behind: int
    events_applied: int
    updated_at: datetime | None
    rebuilt_at: datetime | None
    error: str


def valuation_status() -> ValuationStatus:
    checkpoint = ValuationCheckpoint.objects.filter(pk=CHECKPOINT).first() or ValuationCheckpoint(name=CHECKPOINT)
    head = head_position()
    return ValuationStatus(checkpoint.position, head, head - checkpoint.position, checkpoint.events_applied,
                           checkpoint.updated_at, checkpoint.rebuilt_at, checkpoint.error)


def _entry_key(row) -> tuple:
    movement, location, quantity, value, cogs, flagged = row
    return (movement, location, Decimal(quantity).normalize(), Decimal(value).normalize(), Decimal(cogs).normalize(), bool(flagged))


@dataclass(frozen=True)
class ValuationVerification:
    position: int
    products: int
    differences: list[tuple[int, str]]  # (product, what differs)


def valuation_verify() -> ValuationVerification:
    """Replay every product valued so far from the ledger up to the checkpoint and compare its
    entries and layers with the stored ones (the checkpoint locked meanwhile)."""
    from .services import _locked_checkpoint, layer_rows

    differences: list[tuple[int, str]] = []
    with transaction.atomic():
        checkpoint = _locked_checkpoint()
        warehouse_of = warehouses_of_locations()
        methods = dict(Product.objects.values_list("id", "valuation_method"))
        products = sorted(set(CostEntry.objects.values_list("product_id", flat=True).distinct()) | set(
            _ledger_products(checkpoint.position)))
        for product in products:
            state, made = engine.value_product(methods[product], product_events(product, upto=checkpoint.position), warehouse_of)
            replayed = sorted(_entry_key((e.movement, e.location, e.quantity, e.value, e.cogs, e.flagged)) for e in made)
            stored = sorted(_entry_key(row) for row in CostEntry.objects.filter(product_id=product).values_list(
                "movement_id", "location_id", "quantity", "value", "cogs", "flagged"))
            if replayed != stored:
                differences.append((product, "entries"))
            expected = sorted((r.warehouse_id, r.seq, r.quantity.normalize(), r.value.normalize()) for r in layer_rows(product, state))
            found = sorted((r.warehouse_id, r.seq, Decimal(r.quantity).normalize(), Decimal(r.value).normalize())
                           for r in CostLayer.objects.filter(product_id=product))
            if expected != found:
                differences.append((product, "layers"))
    return ValuationVerification(checkpoint.position, len(products), differences)


def _ledger_products(upto: int) -> Iterable[int]:
    return Movement.objects.filter(position__lte=upto).values_list("product_id", flat=True).distinct()


def entries_of_product(product: int) -> Iterator[CostEntry]:
    return CostEntry.objects.filter(product_id=product).order_by("occurred_at", "movement_id", "id")
