"""Demand history from a CSV file, for ``forecast_backtest``: one row per demand, with a date
(ISO 8601, ``2011-01-07``; a time after it is ignored), a series name (a product, a product at a
shop: whatever is forecast apart) and a quantity. Rows of a series in the same period add up; every
series runs over the file's whole period (its first to its last date), a period without a row
being a period without demand. The header names the columns; which are which is asked for by name
(``date``, ``series`` and ``quantity`` unless told)."""
import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from .periods import laid_out, period_range, period_start


class DemandFileError(ValueError):
    """The file cannot be read as demand history; the message says where and why."""


@dataclass(frozen=True)
class Columns:
    date: str = "date"
    series: str = "series"
    quantity: str = "quantity"


def read_demand(path: Path, period: str, columns: Columns = Columns()) -> tuple[dict[str, np.ndarray], list[date]]:
    """Each series' demand per period, oldest first, and the periods."""
    totals: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    first = last = None
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = [name for name in (columns.date, columns.series, columns.quantity) if name not in (reader.fieldnames or [])]
        if missing:
            raise DemandFileError(f"{path}: no column {', '.join(map(repr, missing))} in the header {reader.fieldnames}.")
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat(row[columns.date].strip()[:10])
                quantity = Decimal(row[columns.quantity].strip())
            except (ValueError, InvalidOperation, AttributeError):
                raise DemandFileError(
                    f"{path}, line {line}: {columns.date} {row[columns.date]!r} and {columns.quantity} "
                    f"{row[columns.quantity]!r} must be a date (YYYY-MM-DD) and a number."
                ) from None
            if not quantity.is_finite():
                raise DemandFileError(f"{path}, line {line}: {columns.quantity} {row[columns.quantity]!r} is not a number.")
            totals[row[columns.series]][period_start(day, period)] += quantity
            first, last = min(first or day, day), max(last or day, day)
    if first is None:
        raise DemandFileError(f"{path}: no demand rows.")
    periods = period_range(first, last, period)
    return {name: laid_out(quantities, periods) for name, quantities in sorted(totals.items())}, periods
