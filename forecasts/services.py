"""A forecasting run: every product at every warehouse it has moved at, forecast from the weeks
of the ledger before the run's cut-off (the Monday of the week it runs in: that week is not over),
its method chosen by backtest, and a reorder suggestion from it; stored in one transaction."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from catalog.models import Product

from . import selectors
from .backtest import MIN_WINDOWS, Plan, Selection, select
from .methods import BASELINE, methods
from .models import Forecast, ForecastRun, RunSource
from .periods import SEASON, WEEK, history_weeks, laid_out, period_start
from .policy import DEFAULT_SERVICE_LEVEL, horizon_weeks, suggest, turnover

NO_DEMAND = "No issue of it at this warehouse before {cutoff}: nothing to forecast from."
TOO_SHORT = ("{weeks} weeks of history before {cutoff}; a backtest of its {lead} days' lead time "
             "({horizon} weeks ahead, {windows} windows) needs {needed}.")
INTERVAL = (0.05, 0.95)  # the chart's band: the backtest's weekly errors between these quantiles
BATCH = 2_000  # forecasts written per INSERT


def cutoff_of(today: date) -> date:
    return period_start(today, WEEK)


def _ratio(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(round(value, 4)))


def _detail(selection: Selection, periods: list[date], cutoff: date) -> dict:
    """The forecast per week with its band, and each backtest window's forecast beside what happened."""
    errors = np.concatenate([w.actual - w.forecasts[selection.method] for w in selection.backtest.windows])
    low, high = (float(np.quantile(errors, q)) for q in INTERVAL)
    forecast = selection.forecast
    return {
        "weeks": [(cutoff + timedelta(weeks=i)).isoformat() for i in range(forecast.size)],
        "forecast": [round(float(v), 3) for v in forecast],
        "low": [round(max(float(v) + low, 0.0), 3) for v in forecast],
        "high": [round(max(float(v) + high, 0.0), 3) for v in forecast],
        "interval": list(INTERVAL),
        "windows": [{
            "cut": periods[w.cut].isoformat(),
            "forecast": [round(float(v), 3) for v in w.forecasts[selection.method]],
            "actual": [round(float(v), 3) for v in w.actual],
        } for w in selection.backtest.windows],
    }


@dataclass(frozen=True)
class _Facts:
    """What a run reads, once for every product and warehouse."""

    demand: dict
    first: dict
    change: dict
    on_hand: dict
    products: dict


def _read(before: datetime) -> _Facts:
    first = selectors.first_movements(before=before)
    on_hand = selectors.on_hand()
    keys = set(first) | set(on_hand)
    products = {row["pk"]: row for row in Product.objects.filter(pk__in={p for p, _ in keys})
                .values("pk", "lead_time_days", "pack_size")}
    return _Facts(selectors.demand(before=before, period=WEEK), first, selectors.weekly_stock_change(before=before),
                  on_hand, products)


def forecast_line(*, product: dict, warehouse: int, facts: _Facts, cutoff: date, today: date,
                  service_level: Decimal) -> Forecast:
    """One product at one warehouse: its forecast and suggestion, or why there is none."""
    key = (product["pk"], warehouse)
    lead, pack = product["lead_time_days"], product["pack_size"]
    periods = history_weeks(facts.first.get(key), cutoff)
    history = laid_out(facts.demand.get(key, {}), periods)
    on_hand = facts.on_hand.get(key, Decimal(0))
    line = Forecast(product_id=key[0], warehouse_id=warehouse, history_weeks=len(periods),
                    zero_weeks=int((history == 0).sum()), lead_time_days=lead, pack_size=pack, on_hand=on_hand)
    horizon = horizon_weeks(lead)
    if not history.any():
        line.reason = NO_DEMAND.format(cutoff=cutoff)
        return line
    selection = select(history, horizon, methods(SEASON[WEEK]))
    if selection is None:
        line.reason = TOO_SHORT.format(weeks=len(periods), cutoff=cutoff, lead=lead, horizon=horizon,
                                       windows=MIN_WINDOWS, needed=Plan(horizon, MIN_WINDOWS, step=1).needed())
        return line
    suggestion = suggest(selection=selection, history=history, lead_time_days=lead, pack_size=pack, on_hand=on_hand,
                         service_level=service_level, today=today)
    stock = np.cumsum(laid_out(facts.change.get(key, {}), periods))
    line.turnover, line.days_of_inventory = turnover(history, stock)
    line.method = selection.method
    line.rmsse = _ratio(selection.score.mean_rmsse)
    line.baseline_rmsse = _ratio(selection.backtest.scores[BASELINE].mean_rmsse)
    line.bias = _ratio(selection.score.bias)
    line.backtest_windows = len(selection.backtest.windows)
    line.weekly_demand = Decimal(repr(round(float(selection.forecast.mean()), 3)))
    for name in ("lead_time_demand", "safety_stock", "safety_stock_from", "reorder_point", "order_up_to",
                 "suggested_quantity", "days_of_cover", "stockout_on"):
        setattr(line, name, getattr(suggestion, name))
    line.detail = _detail(selection, periods, cutoff)
    return line


def forecast_run(*, source: str = RunSource.COMMAND, today: date | None = None,
                 service_level: Decimal = DEFAULT_SERVICE_LEVEL) -> ForecastRun:
    """Forecast every product at every warehouse it has moved at (or holds stock at) and store the run."""
    started = timezone.now()
    today = today or timezone.localdate(started)
    cutoff = cutoff_of(today)
    facts = _read(datetime.combine(cutoff, time.min, tzinfo=timezone.get_current_timezone()))
    lines = [
        forecast_line(product=facts.products[product], warehouse=warehouse, facts=facts, cutoff=cutoff, today=today,
                      service_level=service_level)
        for product, warehouse in sorted(set(facts.first) | set(facts.on_hand))
    ]
    with transaction.atomic():
        run = ForecastRun.objects.create(
            started_at=started, finished_at=timezone.now(), cutoff=cutoff, as_of=today, source=source,
            service_level=service_level, series=len(lines), forecasts=sum(1 for line in lines if line.method),
            to_order=sum(1 for line in lines if line.suggested_quantity),
        )
        for line in lines:
            line.run = run
        Forecast.objects.bulk_create(lines, batch_size=BATCH)
    return run
