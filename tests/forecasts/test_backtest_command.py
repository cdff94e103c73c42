"""``forecast_backtest`` on the bike data and on files of the documented form."""
import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from .data import bike_sales


def _run(*args) -> str:
    out = io.StringIO()
    call_command("forecast_backtest", *map(str, args), stdout=out)
    return out.getvalue()


def _figures(text: str) -> dict[str, tuple[float, float]]:
    """Each line's RMSSE and its share against seasonal naive."""
    return {name: (float(rmsse), float(against) / 100) for name, rmsse, against in
            re.findall(r"^(\w+)\s+([\d.]+)\s+([+-][\d.]+)%", text, re.MULTILINE)}


def test_on_the_bike_data_the_selection_is_at_least_15_percent_below_seasonal_naive():
    text = _run(bike_sales(), "--date-column", "order_date", "--series-column", "model")
    assert "97 series over 52 weeks from 2011-01-03 to 2011-12-26 (62% of the weeks without demand)" in text
    figures = _figures(text)
    assert set(figures) == {"seasonal_naive", "naive", "moving_average", "ses", "croston", "sba", "tsb", "adida", "selection"}
    assert figures["seasonal_naive"] == (0.7478, 0.0)
    for name in ("croston", "sba", "tsb"):  # the "about 25% below seasonal naive"
        assert -0.28 < figures[name][1] < -0.24, name
    assert figures["selection"][1] <= -0.15


def test_a_documented_file_is_read_and_rows_of_a_week_add_up(tmp_path):
    rows = ["date,series,quantity"]
    for week in range(30):  # A: 2 every Monday and 1 every Thursday, 3 a week; B: 5 every other week
        monday = date(2026, 1, 5) + timedelta(weeks=week)
        rows += [f"{monday},A,2", f"{monday + timedelta(days=3)},A,1"]
        if week % 2 == 0:
            rows.append(f"{monday},B,5")
    path = tmp_path / "demand.csv"
    path.write_text("\n".join(rows) + "\n")
    text = _run(path)
    assert "2 series over 30 weeks from 2026-01-05" in text
    # A is 3 every week: no change to scale its errors by, so only B is scored; B is 5, 0, 5, 0, ...,
    # which seasonal naive (four weeks back) forecasts exactly, and so does the choice
    # (no share against a baseline of 0; no bias either way)
    for name in ("seasonal_naive", "selection"):
        assert re.search(rf"^{name}\s+0\.0000\s+\+0\.0%\s+1$", text, re.MULTILINE), name


def test_a_file_without_the_columns_is_refused_with_them_named(tmp_path):
    path = tmp_path / "demand.csv"
    path.write_text("day,sku,qty\n2026-01-05,A,1\n")
    with pytest.raises(CommandError, match="no column 'date', 'series', 'quantity'"):
        _run(path)


def test_a_bad_quantity_is_refused_with_its_line(tmp_path):
    path = tmp_path / "demand.csv"
    path.write_text("date,series,quantity\n2026-01-05,A,1\n2026-01-06,A,lots\n")
    with pytest.raises(CommandError, match="line 3"):
        _run(path)


def test_too_short_a_history_is_said(tmp_path):
    path = tmp_path / "demand.csv"
    path.write_text("date,series,quantity\n2026-01-05,A,1\n2026-02-05,A,1\n")
    with pytest.raises(CommandError, match="No series is long enough"):
        _run(path)
