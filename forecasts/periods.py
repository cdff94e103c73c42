"""Periods of demand: days, and weeks starting on Monday (ISO 8601, as Django's ``TruncWeek`` and
PostgreSQL's ``date_trunc('week')`` cut them), and a history laid out one value per period with
zeros where nothing was asked for."""
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

DAY, WEEK = "day", "week"
LENGTH = {DAY: timedelta(days=1), WEEK: timedelta(days=7)}
SEASON = {DAY: 7, WEEK: 4}  # seasonal naive's period: a week of days; four weeks (see README)


def period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == WEEK else day


def period_range(first: date, last: date, period: str) -> list[date]:
    """Every period from the one holding ``first`` to the one holding ``last``, both included."""
    start, end, step = period_start(first, period), period_start(last, period), LENGTH[period]
    return [start + step * i for i in range((end - start) // step + 1)] if start <= end else []


def laid_out(quantities: Mapping[date, Decimal | float], periods: list[date]) -> np.ndarray:
    """One value per period of ``periods`` (zero where ``quantities`` has none)."""
    return np.array([float(quantities.get(day, 0)) for day in periods], dtype=float)


def history_weeks(first: datetime | None, cutoff: date) -> list[date]:
    """The weeks of a history that began at ``first`` (its first movement) and ends before ``cutoff``."""
    if first is None or first.date() >= cutoff:
        return []
    return period_range(first.date(), cutoff - timedelta(days=1), WEEK)
