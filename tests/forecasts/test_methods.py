"""Each method against values worked out by hand (the arithmetic is in each test)."""
import numpy as np
import pytest

from forecasts import methods as m

Y = np.array([0, 3, 0, 0, 6], dtype=float)  # demands of 3 and 6, two and three periods apart


def test_naive_holds_the_last_value():
    assert m.naive(np.array([1.0, 0, 3]), 2).tolist() == [3, 3]


def test_seasonal_naive_repeats_the_last_season():
    assert m.seasonal_naive(np.array([1.0, 2, 3, 4, 5]), 3, season=2).tolist() == [4, 5, 4]


def test_seasonal_naive_on_less_than_a_season_holds_the_last_value():
    assert m.seasonal_naive(np.array([1.0, 2]), 2, season=4).tolist() == [2, 2]


def test_moving_average_is_the_mean_of_the_last_four():
    assert m.moving_average(np.array([9.0, 4, 0, 8, 2]), 1).tolist() == [3.5]  # (4 + 0 + 8 + 2) / 4


def test_ses_level_moves_alpha_of_the_way_to_each_value():
    # 2, then 2 + 0.5 (0 - 2) = 1, then 1 + 0.5 (4 - 1) = 2.5
    assert m.ses_level(np.array([2.0, 0, 4]), 0.5) == 2.5


def test_ses_chooses_the_alpha_with_the_least_one_step_error():
    y = np.array([5.0, 4, 3, 2, 1, 0, 0, 9])
    alpha = m.ses_alpha(y, m.SES_BOUNDS)
    grid = np.linspace(*m.SES_BOUNDS, 9801)
    best = grid[np.argmin([m.ses_sse(y.tolist(), a) for a in grid])]
    assert alpha == pytest.approx(best, abs=1e-4)
    assert m.ses(y, 2).tolist() == pytest.approx([m.ses_level(y, alpha)] * 2)


def test_ses_on_errors_that_do_not_depend_on_alpha_takes_the_middle():
    # the only error is the last value's (6 against a level of 0), whatever alpha is
    assert m.ses_alpha(np.array([0.0, 0, 0, 0, 6]), (0.1, 0.3)) == pytest.approx(0.2)


def test_croston_divides_the_smoothed_size_by_the_smoothed_interval():
    # sizes 3, 6: 3 + 0.1 (6 - 3) = 3.3; intervals 2, 3: 2 + 0.1 (3 - 2) = 2.1
    assert m.croston(Y, 3).tolist() == pytest.approx([3.3 / 2.1] * 3)


def test_sba_is_croston_less_five_percent():
    assert m.sba(Y, 1).tolist() == pytest.approx([0.95 * 3.3 / 2.1])


def test_tsb_multiplies_the_smoothed_size_by_the_smoothed_probability():
    # probability of 0, 1, 0, 0, 1 smoothed by 0.1: 0, 0.1, 0.09, 0.081, 0.081 + 0.1 (1 - 0.081) = 0.1729
    assert m.tsb(Y, 1).tolist() == pytest.approx([3.3 * 0.1729])


def test_adida_smooths_sums_over_the_mean_interval_and_spreads_them():
    # intervals 2 and 3: mean 2.5, rounded (half to even) to buckets of 2; sums 3, 0, 6; their errors
    # 9 + (3 + 3 alpha)^2 are least at alpha 0.1: 3, 2.7, 2.7 + 0.1 (6 - 2.7) = 3.03; per period 1.515
    assert m.adida(np.array([0.0, 3, 0, 0, 6, 0]), 2).tolist() == pytest.approx([1.515, 1.515])


def test_adida_drops_the_oldest_remainder():
    # intervals 1, 3, 3: buckets of 2 over 7 periods, so the first (a demand of 7) is dropped; sums
    # 0, 3, 6 with errors 9 + (6 - 3 alpha)^2, least at 0.3: 0, 0.9, 0.9 + 0.3 (6 - 0.9) = 2.43; 1.215
    assert m.adida(np.array([7.0, 0, 0, 3, 0, 0, 6]), 1).tolist() == pytest.approx([1.215])


@pytest.mark.parametrize("name", ["croston", "sba", "tsb", "adida"])
def test_intermittent_methods_forecast_nothing_without_demand(name):
    assert m.methods(4)[name].forecast(np.zeros(6), 2).tolist() == [0, 0]


def test_every_method_answers_one_value_per_period_ahead():
    y = np.array([0, 2, 0, 5, 1, 0, 0, 3], dtype=float)
    for method in m.methods(4).values():
        forecast = method.forecast(y, 6)
        assert forecast.shape == (6,) and np.isfinite(forecast).all(), method.name
