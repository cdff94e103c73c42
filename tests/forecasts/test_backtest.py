"""The rolling-origin backtest: where it cuts, how it scores, and that no fit sees past its cut."""
import numpy as np
import pytest

from forecasts.backtest import Plan, Score, backtest, select, selection_needs, selection_score
from forecasts.methods import BASELINE, methods

METHODS = methods(4)
RNG = np.random.default_rng(3)
Y = (RNG.random(60) < 0.4) * RNG.integers(1, 9, 60).astype(float)


def test_windows_end_at_the_series_end_a_horizon_apart():
    assert Plan(horizon=4, windows=4).cuts(52) == [36, 40, 44, 48]
    assert Plan(horizon=3, windows=4, step=1).cuts(20) == [14, 15, 16, 17]


def test_a_series_too_short_for_the_windows_is_not_backtested():
    plan = Plan(horizon=4, windows=4)
    assert plan.needed() == 18
    assert backtest(np.ones(17), plan, METHODS) is None
    assert backtest(np.ones(18), plan, METHODS).windows[0].cut == 2


def test_rmsse_scales_by_the_history_s_one_step_changes():
    score = Score()
    # history 0, 2, 0: changes 2 and -2, mean square 4; errors 1 and 3: mean square 5
    score.add(np.array([1.0, 1.0]), np.array([2.0, 4.0]), np.array([0.0, 2.0, 0.0]))
    assert score.mean_rmsse == pytest.approx(np.sqrt(5 / 4))
    assert score.bias == pytest.approx(2 / 6 - 1)


def test_a_window_after_an_unchanging_history_counts_in_the_bias_only():
    score = Score()
    score.add(np.array([1.0]), np.array([2.0]), np.array([3.0, 3.0]))
    assert score.mean_rmsse is None and score.bias == -0.5


@pytest.mark.parametrize("plan", [Plan(4, 4), Plan(2, 6, step=1)])
def test_a_spike_after_the_cut_changes_no_forecast_of_that_window(plan):
    tested = backtest(Y, plan, METHODS)
    for index, window in enumerate(tested.windows):
        spiked = Y.copy()
        spiked[window.cut:] += 1_000
        again = backtest(spiked, plan, METHODS).windows[index]
        assert again.cut == window.cut
        for name, forecast in window.forecasts.items():
            assert again.forecasts[name].tolist() == forecast.tolist(), name
        assert again.actual.tolist() != window.actual.tolist()  # the spike is there to be forecast


def test_a_spike_after_the_cut_changes_no_choice_made_before_it():
    plan = Plan(4, 4)
    _, chosen = selection_score(Y, plan, METHODS)
    for index, cut in enumerate(plan.cuts(Y.size)):
        spiked = Y.copy()
        spiked[cut] += 1_000
        assert selection_score(spiked, plan, METHODS)[1][index] == chosen[index]
        assert select(spiked[:cut], 4, METHODS).forecast.tolist() == select(Y[:cut], 4, METHODS).forecast.tolist()


def test_the_choice_is_the_method_with_the_least_rmsse():
    selection = select(Y, 4, METHODS)
    scores = {name: score.mean_rmsse for name, score in selection.backtest.scores.items()}
    assert selection.method == min(scores, key=scores.get)
    assert len(selection.backtest.windows) == 12  # one period apart, as many as fit up to twelve
    assert selection.forecast.tolist() == METHODS[selection.method].forecast(Y, 4).tolist()


def test_on_a_tie_the_baseline_stays():
    flat = np.full(30, 5.0)  # every method forecasts 5: nothing beats seasonal naive
    assert select(flat, 2, METHODS).method == BASELINE


def test_the_selection_s_backtest_needs_a_choice_before_its_first_cut():
    plan = Plan(4, 4)
    needed = selection_needs(plan)
    assert needed == 18 + 7  # the plan's 18, and 2 + 4 + 3 before the first cut to choose on
    assert selection_score(Y[:needed - 1], plan, METHODS) is None
    assert selection_score(Y[:needed], plan, METHODS) is not None
