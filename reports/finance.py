"""The finance reports, worked out of the valuation projection (``valuation.selectors``): what the
stock is worth as of a date, what flowed in and out at cost per period, how fast it turns, and what
has not moved. Each report is a ``FinanceReport``: its name, its parameters, its lines and its
total, laid out as JSON, CSV or XLSX by the same columns (``COLUMNS``).

Turnover: COGS over the period / the average inventory value over it, where the **average is daily**:
the mean of the value at the end of each of the period's days in the books' time zone (``TIME_ZONE``),
from the first day ``from`` falls on to the last day before ``to``; the value at a day's end is the
opening value (entries dated before ``from``) plus the entries dated up to that day's end. Days of
inventory = the period's days / turnover = average x days / COGS. With no COGS neither is stated
(null); with COGS but no stock on average (all of it received and issued inside one day) the
turnover is not stated either. A category's average is the sum of its products' (the mean of sums is
the sum of means).

Slow-moving and dead stock: products with stock on hand as of ``as_of`` whose last issue (not
reversed) is more than ``days`` before it, or which were never issued; "dead" when that is more than
``dead_days`` or never.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models.functions import TruncDay
from django.utils import timezone

from catalog.models import Category, Product
from ledger.closes import books_zone
from valuation.models import CostEntry
from valuation.selectors import cost_flows, last_issue_times, valuation_on_hand

ZERO = Decimal(0)
TEXT, NUMBER, QUANTITY, MONEY, RATIO, TIME, FLAG = "text", "number", "quantity", "money", "ratio", "time", "flag"
VALUATION, FLOWS, TURNOVER, SLOW = "valuation", "flows", "turnover", "slow"
REPORTS = (VALUATION, FLOWS, TURNOVER, SLOW)

_GROUP_COLUMNS = {
    "product": (("product", NUMBER), ("sku", TEXT), ("name", TEXT), ("category", NUMBER), ("category_name", TEXT)),
    "category": (("category", NUMBER), ("category_name", TEXT)),
    "warehouse": (("warehouse", NUMBER), ("warehouse_code", TEXT), ("warehouse_name", TEXT)),
}
# A report's columns after the group's (the line's kind first): (name, type).
_FIGURES = {
    VALUATION: (("quantity", QUANTITY), ("value", MONEY)),
    FLOWS: (("received_quantity", QUANTITY), ("receipts_value", MONEY), ("issued_quantity", QUANTITY), ("cogs", MONEY),
            ("adjustments_value", MONEY)),
    TURNOVER: (("opening_value", MONEY), ("closing_value", MONEY), ("average_value", MONEY), ("cogs", MONEY),
               ("turnover", RATIO), ("days_of_inventory", RATIO)),
    SLOW: (("quantity", QUANTITY), ("value", MONEY), ("last_issue_at", TIME), ("days_since_issue", NUMBER), ("dead", FLAG)),
}


def columns(report: str, group_by: str) -> tuple[tuple[str, str], ...]:
    """The columns of a report's lines: the line's kind, the period (flows), the group, the figures."""
    period = (("period_start", TIME),) if report == FLOWS else ()
    return (("line", TEXT), *period, *_GROUP_COLUMNS[group_by], *_FIGURES[report])


@dataclass
class FinanceReport:
    report: str
    group_by: str
    parameters: dict
    lines: list[dict]
    total: dict = field(default_factory=dict)

    @property
    def columns(self):
        return columns(self.report, self.group_by)


def _group(line: dict, group_by: str) -> dict:
    """The valuation selectors' ``<group>_id`` keys as the reports name them."""
    renamed = {}
    for name, value in line.items():
        renamed[name[:-3] if name.endswith("_id") else name] = value
    return renamed


def _totals(lines: list[dict], names: tuple[str, ...]) -> dict:
    return {name: sum((line[name] for line in lines), ZERO) for name in names}


# -- stock valuation as of a date ---------------------------------------------------------------
def valuation_report(*, as_of: datetime | None, group_by: str = "product", product=None, warehouse=None, category=None) -> FinanceReport:
    """What the stock is worth as of ``as_of`` (business time, inclusive), per product, category or warehouse."""
    lines = [_group(line, group_by) for line in valuation_on_hand(
        as_of=as_of, group_by=group_by, product=product, warehouse=warehouse, category=category)]
    return FinanceReport(VALUATION, group_by, {"as_of": as_of, "product": product, "warehouse": warehouse, "category": category},
                         lines, _totals(lines, ("quantity", "value")))


# -- COGS and receipts value per period ---------------------------------------------------------
def flows_report(*, start: datetime, end: datetime, period: str = "month", group_by: str = "category", product=None,
                 category=None, warehouse=None) -> FinanceReport:
    """Receipts (quantity and value), issues (quantity and COGS) and count adjustments per period and
    category or product, over business times in [start, end), reversals netted."""
    lines = [_group(line, group_by) for line in cost_flows(
        start=start, end=end, period=period, group_by=group_by, product=product, category=category, warehouse=warehouse)]
    names = ("received_quantity", "receipts_value", "issued_quantity", "cogs", "adjustments_value")
    return FinanceReport(FLOWS, group_by, {"from": start, "to": end, "period": period, "product": product, "category": category,
                                           "warehouse": warehouse}, lines, _totals(lines, names))


# -- turnover and days of inventory -------------------------------------------------------------
def _day(moment: datetime) -> date:
    return moment.astimezone(books_zone()).date()


def _entries(product, category):
    entries = CostEntry.objects.all()
    if product is not None:
        entries = entries.filter(product_id=product)
    if category is not None:
        entries = entries.filter(product__category_id=category)
    return entries


def _exact(value) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if not numerator or not denominator else (numerator / denominator).quantize(Decimal("0.0001"))


def turnover_report(*, start: datetime, end: datetime, group_by: str = "product", product=None, category=None) -> FinanceReport:
    """COGS / daily average inventory value over [start, end) and days of inventory, per product
    or category (the module's docstring says how)."""
    from valuation.selectors import _sum  # the exact decimal sum on SQLite as well

    first, last = _day(start), _day(end - timedelta(microseconds=1))
    days = (last - first).days + 1
    entries = _entries(product, category)
    opening = dict(entries.filter(occurred_at__lt=start).values_list("product_id").annotate(v=_sum("value")).order_by())
    inside = entries.filter(occurred_at__gte=start, occurred_at__lt=end)
    cogs = dict(inside.values_list("product_id").annotate(c=_sum("cogs")).order_by())
    changes: dict[int, dict[date, Decimal]] = defaultdict(dict)
    daily = inside.annotate(day=TruncDay("occurred_at", tzinfo=books_zone())).values_list("product_id", "day").annotate(v=_sum("value"))
    for product_id, day, value in daily.order_by():
        changes[product_id][day.date() if isinstance(day, datetime) else day] = _exact(value)
    figures: dict[int, dict] = {}
    for product_id in set(opening) | set(changes):
        value = _exact(opening.get(product_id))
        start_value, total = value, ZERO
        for index in range(days):
            value += changes[product_id].get(first + timedelta(days=index), ZERO)
            total += value
        figures[product_id] = {"opening_value": start_value, "closing_value": value, "average_value": total / days,
                               "cogs": _exact(cogs.get(product_id))}
    products = {p["id"]: p for p in Product.objects.filter(id__in=list(figures)).values("id", "sku", "name", "category_id")}
    names = dict(Category.objects.values_list("id", "name"))
    grouped: dict = defaultdict(lambda: dict.fromkeys(("opening_value", "closing_value", "average_value", "cogs"), ZERO))
    for product_id, figure in figures.items():
        key = product_id if group_by == "product" else products[product_id]["category_id"]
        for name, amount in figure.items():
            grouped[key][name] += amount
    lines = []
    for key, figure in grouped.items():
        if not any(figure.values()):
            continue
        if group_by == "product":
            p = products[key]
            line = {"product": key, "sku": p["sku"], "name": p["name"], "category": p["category_id"], "category_name": names.get(p["category_id"])}
        else:
            line = {"category": key, "category_name": names.get(key)}
        turnover = _ratio(figure["cogs"], figure["average_value"])
        line.update(figure, average_value=figure["average_value"].quantize(Decimal("0.0001")), turnover=turnover,
                    days_of_inventory=_ratio(figure["average_value"] * days, figure["cogs"]) if turnover else None)
        lines.append(line)
    label = "sku" if group_by == "product" else "category_name"
    lines.sort(key=lambda line: (line[label] is None, line[label] or ""))
    total = _totals(lines, ("opening_value", "closing_value", "average_value", "cogs"))
    total["turnover"] = _ratio(total["cogs"], total["average_value"])
    total["days_of_inventory"] = _ratio(total["average_value"] * days, total["cogs"]) if total["turnover"] else None
    return FinanceReport(TURNOVER, group_by, {"from": start, "to": end, "days": days, "product": product, "category": category}, lines, total)


# -- slow-moving and dead stock -----------------------------------------------------------------
def slow_stock_report(*, days: int, dead_days: int, as_of: datetime | None = None, category=None, warehouse=None) -> FinanceReport:
    """Products with stock on hand as of ``as_of`` (default now) and no issue in the ``days`` before
    it; ``dead`` when none in ``dead_days`` (or never). Oldest last issue first, never issued first of all."""
    at = as_of or timezone.now()
    on_hand = valuation_on_hand(as_of=at, group_by="product", category=category, warehouse=warehouse)
    last = last_issue_times(as_of=at, category=category, warehouse=warehouse)
    lines = []
    for row in on_hand:
        if row["quantity"] <= 0:
            continue
        issued = last.get(row["product_id"])
        since = None if issued is None else (at - issued).days
        if since is not None and at - issued <= timedelta(days=days):
            continue
        line = _group(row, "product")
        line.update(last_issue_at=issued.astimezone(UTC) if issued else None, days_since_issue=since,
                    dead=since is None or at - issued > timedelta(days=dead_days))
        lines.append(line)
    lines.sort(key=lambda line: (line["last_issue_at"] is not None, line["last_issue_at"] or at, line["sku"]))
    return FinanceReport(SLOW, "product", {"as_of": at, "days": days, "dead_days": dead_days, "category": category,
                                           "warehouse": warehouse}, lines, _totals(lines, ("quantity", "value")))


def finance_report(report: str, query: dict) -> FinanceReport:
    """The report named ``report`` for validated query parameters (those of ``serializers``)."""
    if report == VALUATION:
        return valuation_report(as_of=query.get("as_of"), group_by=query["group_by"], product=query.get("product"),
                                warehouse=query.get("warehouse"), category=query.get("category"))
    if report == FLOWS:
        return flows_report(start=query["from"], end=query["to"], period=query["period"], group_by=query["group_by"],
                            product=query.get("product"), category=query.get("category"), warehouse=query.get("warehouse"))
    if report == TURNOVER:
        return turnover_report(start=query["from"], end=query["to"], group_by=query["group_by"], product=query.get("product"),
                               category=query.get("category"))
    if report == SLOW:
        return slow_stock_report(days=query["days"], dead_days=query["dead_days"], as_of=query.get("as_of"),
                                 category=query.get("category"), warehouse=query.get("warehouse"))
    raise ValueError(f"report must be one of {', '.join(REPORTS)}")
