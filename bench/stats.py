"""Percentiles the way wrk reports them: the value at or below which q% of the samples lie."""
import math


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]
