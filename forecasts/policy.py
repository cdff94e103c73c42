"""From a forecast to what to order: the reorder point, the order-up-to level and the quantity,
by the textbook (a continuous review with a reorder point, checked each night):

    lead-time demand  D_L = the forecast per day x the lead time L (days)
    safety stock      SS  = how far demand over a lead time ran above its forecast, at the service level
    reorder point     ROP = D_L + SS
    order-up-to       S   = ROP + the forecast per day x the review period (7 days)
    quantity          Q   = S - on hand, rounded up to whole packs, when on hand is at or below ROP

The error behind the safety stock is the backtest's: in each window the chosen method forecast
the lead time from the history before the cut, and the window's actual demand less that forecast
is one lead-time error. For a sparse series (at least ``SPARSE`` of its weeks without demand) the
errors are far from normal, so SS is their empirical quantile at the service level; otherwise
SS = z x their root mean square (z of the normal distribution at the service level). Either way
SS is never below zero. On hand counts what is in the warehouse: the system keeps no purchase
orders yet, so nothing is on order.
"""
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from statistics import NormalDist

import numpy as np

from .backtest import Selection

DEFAULT_SERVICE_LEVEL = Decimal("0.95")
REVIEW_DAYS = 7  # the run is nightly; an order covers a week beyond the reorder point
SPARSE = 0.3  # share of zero weeks from which a series' errors are taken as they are
DAYS_PER_WEEK = 7
YEAR_WEEKS = 52
QUANTUM = Decimal("0.001")  # a quantity's places
MAX_COVER_DAYS = 3650  # stock lasting longer than ten years has no cover or stock-out date worth stating


def horizon_weeks(lead_time_days: int) -> int:
    """Weeks a backtest forecasts: the lead time, in whole weeks (at least one)."""
    return max(1, math.ceil(lead_time_days / DAYS_PER_WEEK))


def _quantity(value: float) -> Decimal:
    return Decimal(repr(max(float(value), 0.0))).quantize(QUANTUM)


@dataclass(frozen=True)
class Suggestion:
    lead_time_demand: Decimal
    safety_stock: Decimal
    safety_stock_from: str  # "empirical" or "normal"
    reorder_point: Decimal
    order_up_to: Decimal
    suggested_quantity: Decimal
    days_of_cover: Decimal | None
    stockout_on: date | None


def lead_time_errors(selection: Selection, lead_time_days: int) -> np.ndarray:
    """Per backtest window: actual demand over the lead time less the chosen method's forecast of
    it (the window's weeks, scaled from whole weeks to the lead time's days)."""
    share = lead_time_days / (DAYS_PER_WEEK * selection.backtest.windows[0].actual.size)
    return np.array([
        (window.actual.sum() - window.forecasts[selection.method].sum()) * share for window in selection.backtest.windows
    ])


def safety_stock(errors: np.ndarray, sparse: bool, service_level: Decimal) -> tuple[float, str]:
    if sparse:
        return max(float(np.quantile(errors, float(service_level), method="inverted_cdf")), 0.0), "empirical"
    z = NormalDist().inv_cdf(float(service_level))
    return max(z * float(np.sqrt(np.mean(errors ** 2))), 0.0), "normal"


def suggest(*, selection: Selection, history: np.ndarray, lead_time_days: int, pack_size: Decimal,
            on_hand: Decimal, service_level: Decimal, today: date) -> Suggestion:
    """The reorder suggestion for one product at one warehouse (see the module's docstring)."""
    daily = float(selection.forecast.mean()) / DAYS_PER_WEEK
    sparse = float(np.mean(history == 0)) >= SPARSE
    stock, source = safety_stock(lead_time_errors(selection, lead_time_days), sparse, service_level)
    lead_time_demand = _quantity(daily * lead_time_days)
    reorder_point = lead_time_demand + _quantity(stock)
    order_up_to = reorder_point + _quantity(daily * REVIEW_DAYS)
    quantity = Decimal(0)
    if on_hand <= reorder_point and order_up_to > on_hand:
        packs = ((order_up_to - on_hand) / pack_size).to_integral_value(ROUND_CEILING)
        quantity = (packs * pack_size).quantize(QUANTUM)
    cover = float(on_hand) / daily if daily > 0 else None
    if cover is not None and cover > MAX_COVER_DAYS:  # a demand that has all but faded out (TSB decays, never 0)
        cover = None
    return Suggestion(
        lead_time_demand, _quantity(stock), source, reorder_point, order_up_to, quantity,
        None if cover is None else Decimal(repr(round(cover, 1))),
        None if cover is None else today + timedelta(days=math.floor(cover)),
    )


def turnover(demand: np.ndarray, stock: np.ndarray) -> tuple[Decimal | None, Decimal | None]:
    """Over the last 52 weeks (or the history, if shorter): demand over the average stock held at
    the weeks' ends, and the days that average stock lasts at that demand. None where no stock was
    held (turnover), or where it would last beyond ten years (days), none asked for included."""
    demand, stock = demand[-YEAR_WEEKS:], stock[-YEAR_WEEKS:]
    average, total = float(np.mean(stock)) if stock.size else 0.0, float(demand.sum())
    ratio = Decimal(repr(round(total / average, 4))) if average > 0 else None
    days = average / (total / (demand.size * DAYS_PER_WEEK)) if total > 0 else None
    return ratio, None if days is None or days > MAX_COVER_DAYS else Decimal(repr(round(days, 1)))
