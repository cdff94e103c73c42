"""A product's weekly demand at a warehouse, the forecast with its band, and the backtest's
forecasts over what happened, as SVG drawn by pygal from the product's JSON answer (as the
reports' stock chart is: pure Python, self-contained, no script linked).

Weeks are drawn as their distance in weeks from the first of the history; the axis writes each
tick as its Monday. Every point carries its week and quantity as its label (``<desc
class="label">``), so the picture can be read back (the tests do)."""
from datetime import date, timedelta

import pygal
from pygal.style import Style

DEMAND, FORECAST, BAND, BACKTEST = "#1f5f99", "#c0392b", "#e6a19a", "#7f8c8d"
STYLE = Style(
    background="white", plot_background="white", foreground="#333", foreground_strong="#111",
    foreground_subtle="#ccc", colors=(DEMAND, FORECAST, BAND, BACKTEST),
    font_family="DejaVu Sans, Helvetica, Arial, sans-serif", guide_stroke_color="#ddd",
    major_guide_stroke_color="#ddd", guide_stroke_dasharray="3,3",
)
TICKS = 8


def title(line: dict) -> str:
    method = line["method"] or "no forecast"
    return f"{line['sku']} {line['name']} at {line['warehouse_code']}: weekly demand, forecast ({method})"


def forecast_chart_svg(line: dict) -> bytes:
    """``line`` is one of ``ProductForecastSerializer``'s lines."""
    weeks = [date.fromisoformat(str(w["week"])) for w in line["history"]] + [
        date.fromisoformat(str(w["week"])) for w in line["forecast"]]
    start = weeks[0] if weeks else date.today()

    def x(week) -> float:
        return (date.fromisoformat(str(week)) - start).days / 7

    def written(offset: float) -> str:
        return f"{start + timedelta(weeks=round(offset)):%Y-%m-%d}"

    def points(rows, key):
        return [{"value": (x(row["week"]), float(row[key])), "label": f"{row[key]} {line['unit']} in the week of {row['week']}"}
                for row in rows]

    span = max(x(weeks[-1]), 1) if weeks else 1
    drawing = pygal.XY(
        title=title(line), style=STYLE, width=960, height=480, js=[], include_x_axis=True, allow_interruptions=True,
        x_title="Week (Monday)", y_title=f"Demand per week ({line['unit']})", x_label_rotation=25, truncate_label=-1,
        order_min=-3, legend_at_bottom=True, x_value_formatter=written,
        x_labels=[{"value": span * i / TICKS, "label": written(span * i / TICKS)} for i in range(TICKS + 1)],
    )
    drawing.add("demand", points(line["history"], "quantity"), stroke_style={"width": 2}, dots_size=2)
    drawing.add("forecast", points(line["forecast"], "forecast"), stroke_style={"width": 2})
    interval = "-".join(f"{q:.0%}" for q in line["interval"])
    band = points(line["forecast"], "high") + [None] + points(line["forecast"], "low")  # two lines, one legend entry
    drawing.add(f"band ({interval} of the backtest's errors)", band, stroke_style={"dasharray": "4,3"}, dots_size=3)
    backtest = []
    for window in line["windows"]:
        cut = date.fromisoformat(str(window["cut"]))
        backtest += [{"value": (x(cut + timedelta(weeks=i)), float(value)),
                      "label": f"forecast at the cut of {cut}: {value} {line['unit']} in the week of {cut + timedelta(weeks=i)}"}
                     for i, value in enumerate(window["forecast"])] + [None]
    drawing.add("backtest forecasts", backtest, stroke_style={"dasharray": "2,2"}, dots_size=2)
    return drawing.render()
