"""How well each method, and choosing among them, would have done on many series: the table that
``forecast_backtest`` prints. Every method and the choice are scored on the same windows (the
plan's), the choice backtested as ``backtest.selection_score`` says."""
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .backtest import Plan, Score, backtest, selection_score
from .methods import BASELINE, Method

SELECTION = "selection"


@dataclass(frozen=True)
class Line:
    """One method (or the selection) over every series: the mean of the series' RMSSE, the same
    over the baseline's less one (-25% is a quarter below seasonal naive), and the bias."""

    name: str
    rmsse: float | None
    against_baseline: float | None
    bias: float | None
    series: int  # series with a scaled window


@dataclass(frozen=True)
class Evaluation:
    lines: list[Line]
    series: int  # backtested
    too_short: int  # left out: shorter than the plan needs
    chosen: Counter  # how often each method was chosen, over every series' windows


def _line(name: str, scores: list[Score], baseline: float | None) -> Line:
    rmsse = [score.mean_rmsse for score in scores if score.mean_rmsse is not None]
    mean = float(np.mean(rmsse)) if rmsse else None
    forecast, actual = sum(s.forecast_total for s in scores), sum(s.actual_total for s in scores)
    return Line(
        name, mean, mean / baseline - 1 if mean is not None and baseline else None,
        forecast / actual - 1 if actual else None, len(rmsse),
    )


def evaluate(series: dict[str, np.ndarray], plan: Plan, methods: dict[str, Method]) -> Evaluation:
    """Backtest every method and the selection on each series long enough for the plan. The
    selection needs a longer history than a method alone (it chooses before each cut): a series
    too short for it is left out of every line, so all lines score the same series."""
    scores: dict[str, list[Score]] = {name: [] for name in [*methods, SELECTION]}
    chosen: Counter = Counter()
    too_short = 0
    for y in series.values():
        selected = selection_score(y, plan, methods)
        if selected is None:
            too_short += 1
            continue
        score, choices = selected
        scores[SELECTION].append(score)
        chosen.update(choices)
        for name, method_score in backtest(y, plan, methods).scores.items():
            scores[name].append(method_score)
    baseline = _line(BASELINE, scores[BASELINE], None).rmsse
    lines = [_line(name, method_scores, baseline) for name, method_scores in scores.items()]
    return Evaluation(lines, len(series) - too_short, too_short, chosen)
