"""The numpy methods held equal to statsforecast's (the reference; a test-only dependency) on
random intermittent and smooth series, and on the bike data's weekly demand."""
import numpy as np
import pytest
from statsforecast.models import (
    ADIDA, TSB, CrostonClassic, CrostonSBA, Naive, SeasonalNaive, SimpleExponentialSmoothingOptimized, WindowAverage,
)

from forecasts import methods as m
from forecasts.demand_csv import Columns, read_demand
from forecasts.periods import WEEK

from .data import bike_sales

REFERENCE = {
    "naive": Naive(), "seasonal_naive": SeasonalNaive(season_length=4), "moving_average": WindowAverage(window_size=m.WINDOW),
    "ses": SimpleExponentialSmoothingOptimized(), "croston": CrostonClassic(), "sba": CrostonSBA(),
    "tsb": TSB(alpha_d=m.TSB_ALPHA_D, alpha_p=m.TSB_ALPHA_P), "adida": ADIDA(),
}


def _random_series(count: int):
    rng = np.random.default_rng(17)
    for _ in range(count):
        n = int(rng.integers(m.WINDOW, 80))
        if rng.random() < 0.2:
            yield rng.poisson(5, n).astype(float)
        else:
            yield (rng.random(n) < rng.random()) * rng.integers(1, 20, n).astype(float)


def _fits_every_alpha_alike(name: str, y: np.ndarray) -> bool:
    """Whether the smoothing that ``name`` optimises has one-step errors that do not depend on alpha
    (as when its only change is its last value): then any alpha is a minimum, ours answers the
    middle of the bounds and statsforecast's search stops wherever rounding noise sends it."""
    if name == "ses":
        smoothed, bounds = y, m.SES_BOUNDS
    elif name == "adida" and y.any():
        level = max(int(np.round(np.diff(np.flatnonzero(y) + 1, prepend=0).mean())), 1)
        smoothed, bounds = y[y.size % level:].reshape(-1, level).sum(axis=1), m.ADIDA_SES_BOUNDS
    else:
        return False
    errors = [m.ses_sse(smoothed.tolist(), alpha) for alpha in np.linspace(*bounds, 50)]
    return max(errors) - min(errors) <= 1e-9 * max(max(errors), 1)


def test_reference_covers_every_method():
    assert set(REFERENCE) == set(m.METHOD_NAMES)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_method_equals_statsforecast_on_random_series(name):
    ours = m.methods(4)[name]
    for y in _random_series(200):
        if _fits_every_alpha_alike(name, y):
            continue
        expected = REFERENCE[name].forecast(y=y, h=5)["mean"]
        np.testing.assert_allclose(ours.forecast(y, 5), expected, rtol=1e-6, atol=1e-6, err_msg=str(y))


def test_methods_equal_statsforecast_on_the_bike_data():
    series, _ = read_demand(bike_sales(), WEEK, Columns("order_date", "model", "quantity"))
    ours = m.methods(4)
    for y in series.values():
        for cut in (20, 36, 52):
            for name, reference in REFERENCE.items():
                expected = reference.forecast(y=y[:cut], h=4)["mean"]
                np.testing.assert_allclose(ours[name].forecast(y[:cut], 4), expected, rtol=1e-6, atol=1e-6)
