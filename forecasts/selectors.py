"""What forecasting reads of the ledger, in one ``GROUP BY`` per question (the database adds up,
Python never walks the events), on PostgreSQL and SQLite alike.

Demand is issues net of their reversals. A reversal of an issue is counted at the issue's business
time, not at its own: it says the issue should not have been, so that week's demand was less (a
mistaken issue of 100 reversed on Monday is no demand of 100 last week and -100 this week, which
would teach every method a spike and a dip that never happened). Transfers and counts are not
demand. An issue split into several events (one per lot) is summed like any other.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import DateField, F, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.db.models.functions import Coalesce, TruncDay, TruncWeek

from ledger.models import Movement, MovementKind, StockLevel

from .errors import NoForecast, NoForecastRun
from .models import Forecast, ForecastRun
from .periods import DAY, WEEK, history_weeks

Key = tuple[int, int]  # (product, warehouse), or (product, location) where asked per location


def _demand_events():
    return Movement.objects.filter(
        Q(kind=MovementKind.ISSUE) | Q(kind=MovementKind.REVERSAL, reverses__kind=MovementKind.ISSUE)
    ).annotate(at=Coalesce("reverses__occurred_at", "occurred_at"))


def demand(*, before: datetime, period: str, per_location: bool = False, product: int | None = None,
           warehouse: int | None = None, location: int | None = None) -> dict[Key, dict[date, Decimal]]:
    """Demand per product and warehouse (or location) and period (a day, or a week from its
    Monday), from the events dated before ``before``."""
    place = "location_id" if per_location else "location__warehouse_id"
    truncate = TruncDay if period == DAY else TruncWeek
    events = _demand_events().filter(at__lt=before)
    if product is not None:
        events = events.filter(product_id=product)
    if warehouse is not None:
        events = events.filter(location__warehouse_id=warehouse)
    if location is not None:
        events = events.filter(location_id=location)
    rows = (events.annotate(period=truncate("at", output_field=DateField())).values("product_id", place, "period")
            .annotate(quantity=Sum("delta")).order_by())
    found: dict[Key, dict[date, Decimal]] = defaultdict(dict)
    for row in rows:
        found[row["product_id"], row[place]][row["period"]] = -row["quantity"]
    return dict(found)


def first_movements(*, before: datetime, product: int | None = None) -> dict[Key, datetime]:
    """When each product first moved at each warehouse (at a location of it, or into one): its
    history starts there, so the weeks before it were stocked are not zero demand."""
    events = Movement.objects.filter(occurred_at__lt=before)
    if product is not None:
        events = events.filter(product_id=product)
    found: dict[Key, datetime] = {}
    for place in ("location__warehouse_id", "to_location__warehouse_id"):
        rows = (events.filter(**{place.replace("__warehouse_id", "__isnull"): False}).values("product_id", place)
                .annotate(first=Min("occurred_at")).order_by())
        for row in rows:
            key = (row["product_id"], row[place])
            found[key] = min(found.get(key, row["first"]), row["first"])
    return found


def weekly_stock_change(*, before: datetime, product: int | None = None) -> dict[Key, dict[date, Decimal]]:
    """The net change of stock per product, warehouse and week (every kind: what arrived less what
    left; a transfer within a warehouse nets out): summed from the start, the stock held each week."""
    events = Movement.objects.filter(occurred_at__lt=before)
    if product is not None:
        events = events.filter(product_id=product)
    week = TruncWeek("occurred_at", output_field=DateField())
    found: dict[Key, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for place, sign in (("location__warehouse_id", 1), ("to_location__warehouse_id", -1)):
        rows = (events.filter(**{place.replace("__warehouse_id", "__isnull"): False}).annotate(week=week)
                .values("product_id", place, "week").annotate(change=Sum(F("delta") * sign)).order_by())
        for row in rows:
            found[row["product_id"], row[place]][row["week"]] += row["change"]
    return {key: dict(weeks) for key, weeks in found.items()}


def on_hand(*, product: int | None = None) -> dict[Key, Decimal]:
    """Stock on hand per product and warehouse now, from the ledger's guard rows (written with each
    posting, so never behind it as a projection can be; a lot-tracked product's rows per lot add up)."""
    rows = StockLevel.objects.all()
    if product is not None:
        rows = rows.filter(product_id=product)
    return {(row["product_id"], row["location__warehouse_id"]): row["quantity"]
            for row in rows.values("product_id", "location__warehouse_id").annotate(quantity=Sum("quantity")).order_by()}


def runs_newest_first() -> QuerySet:
    return ForecastRun.objects.order_by("-pk")


def run_or_latest(run: int | None) -> ForecastRun:
    """The run asked for, or the latest one."""
    if run is not None:
        found = ForecastRun.objects.filter(pk=run).first()
        if found is None:
            raise NoForecast({"run": [NoForecast.NO_RUN.format(run=run)]})
        return found
    latest = runs_newest_first().first()
    if latest is None:
        raise NoForecastRun()
    return latest


def to_order(*, run: ForecastRun | None) -> QuerySet:
    """A run's lines (every run's, given none) with a quantity to order, most urgent first: the
    earliest expected stock-out, then the fewest days of cover (a line with neither comes last)."""
    lines = Forecast.objects.filter(suggested_quantity__gt=0).select_related("product", "warehouse")
    if run is not None:
        lines = lines.filter(run=run)
    return lines.order_by(F("stockout_on").asc(nulls_last=True), F("days_of_cover").asc(nulls_last=True), "product", "warehouse")


@dataclass(frozen=True)
class ProductForecast:
    run: ForecastRun
    product: int
    lines: list[Forecast]  # each with its ``history``, ``forecast``, ``interval`` and ``windows`` set


def product_forecast(*, product: int, run: int | None = None, warehouse: int | None = None) -> ProductForecast:
    """A product's lines in a run, each with its weekly demand from the ledger up to the run's
    cut-off (read again: the run keeps figures, the ledger keeps the history) and its forecast detail."""
    the_run = run_or_latest(run)
    lines = the_run.lines.filter(product_id=product).select_related("product", "warehouse").order_by("warehouse")
    if warehouse is not None:
        lines = lines.filter(warehouse_id=warehouse)
    lines = list(lines)
    if not lines:
        raise NoForecast({"product": [NoForecast.NOT_FORECAST.format(product=product, run=the_run.pk)]})
    before = datetime.combine(the_run.cutoff, time.min, tzinfo=timezone.get_current_timezone())
    found, first = demand(before=before, period=WEEK, product=product), first_movements(before=before, product=product)
    for line in lines:
        weeks = found.get((product, line.warehouse_id), {})
        line.history = [{"week": week, "quantity": weeks.get(week, 0)}
                        for week in history_weeks(first.get((product, line.warehouse_id)), the_run.cutoff)]
        detail = line.detail
        line.forecast = [{"week": week, "forecast": value, "low": low, "high": high} for week, value, low, high in
                         zip(detail.get("weeks", []), detail.get("forecast", []), detail.get("low", []), detail.get("high", []))]
        line.interval, line.windows = detail.get("interval", []), detail.get("windows", [])
    return ProductForecast(the_run, product, lines)
