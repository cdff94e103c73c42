"""Runs on a synthetic ledger with known demand and lead time: the textbook reorder point, the
suggestion rounded to packs, days of cover and the stock-out date; and what has no forecast says why."""
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from forecasts.backtest import select
from forecasts.methods import methods
from forecasts.models import Forecast
from forecasts.policy import lead_time_errors, safety_stock
from forecasts.services import NO_DEMAND, TOO_SHORT, forecast_run
from tests.factories import ProductFactory

from .conftest import CUTOFF, TODAY, at


def _line(run, product) -> Forecast:
    return run.lines.get(product=product)


def test_steady_demand_gives_the_textbook_reorder_point(daily_issues, warehouse):
    # 10 a day for 30 weeks, a lead time of 10 days: ROP = d x L = 100 (no error, no safety stock),
    # order up to ROP + a week's review = 170; 2,150 received less 2,100 issued leaves 50 on hand
    product = ProductFactory(lead_time_days=10, pack_size=Decimal("25"))
    daily_issues(product, received="2150", per_day="10", weeks=30)
    line = _line(forecast_run(today=TODAY), product)
    assert line.weekly_demand == 70
    assert (line.lead_time_demand, line.safety_stock, line.reorder_point, line.order_up_to) == (100, 0, 100, 170)
    assert line.on_hand == 50
    assert line.suggested_quantity == 125  # 170 - 50 = 120, rounded up to five packs of 25
    assert line.days_of_cover == 5 and line.stockout_on == TODAY + timedelta(days=5)
    assert line.rmsse is None and line.backtest_windows == 12  # a history that never changes cannot be scaled
    assert line.history_weeks == 30 and line.zero_weeks == 0 and line.safety_stock_from == "normal"


def test_above_the_reorder_point_nothing_is_ordered(daily_issues):
    product = ProductFactory(lead_time_days=7)
    daily_issues(product, received="2200", per_day="10", weeks=30)  # 100 left, above the ROP of 70
    line = _line(forecast_run(today=TODAY), product)
    assert (line.reorder_point, line.suggested_quantity, line.days_of_cover) == (70, 0, 10)


def test_turnover_is_a_year_s_demand_over_the_stock_held(daily_issues):
    product = ProductFactory()
    daily_issues(product, received="2150", per_day="10", weeks=30)
    line = _line(forecast_run(today=TODAY), product)
    held = np.mean([2150 - 70 * (week + 1) for week in range(30)])  # at each week's end
    assert float(line.turnover) == pytest.approx(2100 / held, abs=1e-4)
    assert float(line.days_of_inventory) == pytest.approx(held / 10, abs=0.05)


def test_sparse_demand_takes_the_empirical_quantile_of_the_lead_time_errors(post, bins):
    product = ProductFactory(lead_time_days=14)
    start = CUTOFF - timedelta(weeks=40)
    rng = np.random.default_rng(5)
    weekly = (rng.random(40) < 0.35) * rng.integers(1, 30, 40)
    post([{"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5000", "occurred_at": at(start, 6)}]
         + [{"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": str(q),
             "occurred_at": at(start + timedelta(weeks=week, days=2))} for week, q in enumerate(weekly) if q])
    line = _line(forecast_run(today=TODAY), product)
    selection = select(weekly.astype(float), 2, methods(4))  # the same history, worked out here
    errors = lead_time_errors(selection, 14)
    assert line.method == selection.method and line.safety_stock_from == "empirical"
    assert float(line.safety_stock) == pytest.approx(max(sorted(errors)[int(np.ceil(0.95 * errors.size)) - 1], 0), abs=1e-3)
    assert line.reorder_point == line.lead_time_demand + line.safety_stock
    assert float(line.lead_time_demand) == pytest.approx(float(selection.forecast.mean()) * 2, abs=1e-3)
    assert len(line.detail["windows"]) == line.backtest_windows == 12


def test_the_normal_safety_stock_is_z_times_the_root_mean_square_error():
    errors = np.array([3.0, -4.0])
    assert safety_stock(errors, False, Decimal("0.95"))[0] == pytest.approx(1.6448536 * np.sqrt(12.5))
    assert safety_stock(np.array([-1.0, -2.0]), True, Decimal("0.95"))[0] == 0


def test_a_product_with_no_history_gets_no_forecast_and_says_why(post, bins):
    product = ProductFactory()
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", occurred_at=at(CUTOFF - timedelta(weeks=20)))
    line = _line(forecast_run(today=TODAY), product)
    assert line.method == "" and line.reason == NO_DEMAND.format(cutoff=CUTOFF)
    assert line.reorder_point is None and line.suggested_quantity is None and line.on_hand == 10


def test_too_short_a_history_says_how_long_it_must_be(daily_issues):
    product = ProductFactory(lead_time_days=7)
    daily_issues(product, received="100", per_day="1", weeks=5)
    line = _line(forecast_run(today=TODAY), product)
    assert line.reason == TOO_SHORT.format(weeks=5, cutoff=CUTOFF, lead=7, horizon=1, windows=4, needed=6)


def test_demand_after_the_cut_off_changes_nothing(daily_issues, post, bins):
    product = ProductFactory()
    daily_issues(product, received="5000", per_day="10", weeks=20)
    before = _line(forecast_run(today=TODAY), product)
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1000", occurred_at=at(CUTOFF))
    after = _line(forecast_run(today=TODAY), product)
    assert (after.method, after.weekly_demand, after.reorder_point) == (before.method, before.weekly_demand, before.reorder_point)
    assert after.on_hand == before.on_hand - 1000  # what is on hand now is today's


def test_a_run_counts_its_lines(daily_issues, post, bins):
    ordered, idle = ProductFactory(), ProductFactory()
    daily_issues(ordered, received="2150", per_day="10", weeks=30)
    post(kind="receipt", product=idle.pk, location=bins[1].pk, quantity="10", occurred_at=at(CUTOFF - timedelta(weeks=3)))
    run = forecast_run(today=TODAY)
    assert (run.series, run.forecasts, run.to_order, run.cutoff) == (2, 1, 1, CUTOFF)


def test_a_demand_that_has_all_but_faded_states_no_stock_out():
    from forecasts.policy import suggest

    history = np.array([9.0] + [0.0] * 400)  # TSB's probability decays toward zero, never to it
    selection = select(history, 1, {"tsb": methods(4)["tsb"]})
    assert 0 < selection.forecast[0] < 1e-10
    made = suggest(selection=selection, history=history, lead_time_days=7, pack_size=Decimal(1), on_hand=Decimal(5),
                   service_level=Decimal("0.95"), today=TODAY)
    assert made.days_of_cover is None and made.stockout_on is None and made.suggested_quantity == 0


def test_turnover_of_a_stock_that_outlasts_ten_years_states_no_days():
    from forecasts.policy import turnover

    ratio, days = turnover(np.array([0.001] + [0.0] * 51), np.full(52, 1_000_000.0))
    assert ratio == Decimal("0.0000") and days is None
    assert turnover(np.zeros(3), np.zeros(3)) == (None, None)
