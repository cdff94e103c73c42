"""The forecasting methods, written with numpy: each takes a history (oldest first, one value per
period, zeros included) and a horizon, and answers the forecast for each period ahead.

They are the methods of statsforecast (``Naive``, ``SeasonalNaive``, ``WindowAverage``,
``SimpleExponentialSmoothingOptimized``, ``CrostonClassic``, ``CrostonSBA``, ``TSB``, ``ADIDA``),
written out here rather than imported: statsforecast brings pandas, scipy, statsmodels, pyarrow and
fugue (about 400 MB) to the worker for some forty lines of arithmetic, and its series-by-series call
through a data frame costs more than the methods themselves. ``tests/forecasts/test_reference.py``
holds every method equal to statsforecast's, which is a test-only dependency (the ``dev`` extra).

Warehouse demand is mostly intermittent (many zero periods), which is what Croston and its
descendants are for: they smooth the sizes of the demands apart from how often they come.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SES_BOUNDS = (0.01, 0.99)  # where statsforecast optimises simple exponential smoothing's constant
ADIDA_SES_BOUNDS = (0.1, 0.3)  # and where ADIDA optimises it for the bucket sums
CROSTON_ALPHA = 0.1  # Croston's (and statsforecast's) smoothing of sizes and intervals
SBA_FACTOR = 0.95  # Syntetos-Boylan: 1 - alpha / 2 removes Croston's bias
TSB_ALPHA_D = 0.1  # TSB's smoothing of the demand size
TSB_ALPHA_P = 0.1  # and of the probability that a period has demand
WINDOW = 4  # the moving average's periods (four weeks)
GOLDEN = (np.sqrt(5) - 1) / 2


def ses_level(y: np.ndarray, alpha: float) -> float:
    """Simple exponential smoothing's level after the last value: it starts at the first value and
    moves ``alpha`` of the way to each next one (statsforecast's ``ses_forecast``)."""
    values = y.tolist()  # Python floats: a loop over numpy scalars is several times slower
    level = values[0]
    for value in values[1:]:
        level += alpha * (value - level)
    return level


def ses_sse(values: list[float], alpha: float) -> float:
    """The squared one-step errors of smoothing ``values`` with ``alpha`` (what the optimisation minimises)."""
    level, sse = values[0], 0.0
    for value in values[1:]:
        error = value - level
        sse += error * error
        level += alpha * error
    return sse


def ses_alpha(y: np.ndarray, bounds: tuple[float, float], tolerance: float = 1e-8) -> float:
    """The smoothing constant within ``bounds`` that minimises the one-step errors: golden-section
    search, as statsforecast's; where the two probes tie (the errors do not depend on alpha, as
    when the only demand is the last value) both ends close in, so a flat curve answers the middle."""
    values, (low, high) = y.tolist(), bounds
    left, right = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    left_sse, right_sse = ses_sse(values, left), ses_sse(values, right)
    while high - low > tolerance:
        if left_sse < right_sse:
            high, right, right_sse = right, left, left_sse
            left = high - GOLDEN * (high - low)
            left_sse = ses_sse(values, left)
        elif left_sse > right_sse:
            low, left, left_sse = left, right, right_sse
            right = low + GOLDEN * (high - low)
            right_sse = ses_sse(values, right)
        else:
            low, high = left, right
            left, right = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
            left_sse, right_sse = ses_sse(values, left), ses_sse(values, right)
    return (low + high) / 2


def _flat(value: float, horizon: int) -> np.ndarray:
    return np.full(horizon, value, dtype=float)


def naive(y: np.ndarray, horizon: int) -> np.ndarray:
    """The last value, held."""
    return _flat(y[-1], horizon)


def seasonal_naive(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last season, repeated: period ``t`` ahead is the value ``season`` periods before it."""
    last = np.asarray(y[-season:], dtype=float)
    return np.resize(last, horizon) if y.size >= season else naive(y, horizon)


def moving_average(y: np.ndarray, horizon: int, window: int = WINDOW) -> np.ndarray:
    """The mean of the last ``window`` periods (of all, on a shorter history)."""
    return _flat(np.mean(y[-window:]), horizon)


def ses(y: np.ndarray, horizon: int) -> np.ndarray:
    """Simple exponential smoothing with its constant chosen by the one-step errors."""
    return _flat(ses_level(y, ses_alpha(y, SES_BOUNDS)), horizon)


def _sizes_and_intervals(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero demands, and the periods from each one to the next (the first counted from the
    start of the history, as statsforecast does)."""
    at = np.flatnonzero(y)
    return y[at].astype(float), np.diff(at + 1, prepend=0).astype(float)


def croston(y: np.ndarray, horizon: int) -> np.ndarray:
    """Croston: the smoothed demand size over the smoothed interval between demands."""
    sizes, intervals = _sizes_and_intervals(y)
    if not sizes.size:
        return _flat(0.0, horizon)
    return _flat(ses_level(sizes, CROSTON_ALPHA) / ses_level(intervals, CROSTON_ALPHA), horizon)


def sba(y: np.ndarray, horizon: int) -> np.ndarray:
    """Syntetos-Boylan approximation: Croston corrected for its upward bias."""
    return croston(y, horizon) * SBA_FACTOR


def tsb(y: np.ndarray, horizon: int) -> np.ndarray:
    """Teunter-Syntetos-Babai: the smoothed demand size times the smoothed probability of a demand,
    updated every period (so an item that stops selling fades out, which Croston never does)."""
    sizes, _ = _sizes_and_intervals(y)
    if not sizes.size:
        return _flat(0.0, horizon)
    probability = ses_level((y != 0).astype(float), TSB_ALPHA_P)
    return _flat(probability * ses_level(sizes, TSB_ALPHA_D), horizon)


def adida(y: np.ndarray, horizon: int) -> np.ndarray:
    """Aggregate-disaggregate: sum the history into buckets as long as the mean interval between
    demands (dropping the oldest remainder), smooth the sums, and spread the result evenly."""
    _, intervals = _sizes_and_intervals(y)
    if not intervals.size:
        return _flat(0.0, horizon)
    level = max(int(np.round(intervals.mean())), 1)
    kept = y[y.size % level:].astype(float)
    if not kept.size:
        return moving_average(y, horizon, y.size)
    sums = kept.reshape(-1, level).sum(axis=1)
    return _flat(ses_level(sums, ses_alpha(sums, ADIDA_SES_BOUNDS)) / level, horizon)


@dataclass(frozen=True)
class Method:
    name: str
    forecast: Callable[[np.ndarray, int], np.ndarray]
    description: str


def methods(season: int) -> dict[str, Method]:
    """Every method by name, the baseline first; ``season`` is the seasonal naive's period."""
    return {method.name: method for method in (
        Method("seasonal_naive", lambda y, h: seasonal_naive(y, h, season), f"the last {season} periods, repeated"),
        Method("naive", naive, "the last period, held"),
        Method("moving_average", moving_average, f"the mean of the last {WINDOW} periods"),
        Method("ses", ses, f"simple exponential smoothing, alpha optimised in {SES_BOUNDS}"),
        Method("croston", croston, f"Croston, alpha {CROSTON_ALPHA}"),
        Method("sba", sba, f"Syntetos-Boylan approximation (Croston x {SBA_FACTOR})"),
        Method("tsb", tsb, f"Teunter-Syntetos-Babai, alpha_d {TSB_ALPHA_D}, alpha_p {TSB_ALPHA_P}"),
        Method("adida", adida, f"aggregate-disaggregate over the mean interval, SES alpha optimised in {ADIDA_SES_BOUNDS}"),
    )}


BASELINE = "seasonal_naive"
METHOD_NAMES = tuple(methods(1))
