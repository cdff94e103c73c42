"""The stock-over-time chart as SVG, drawn by pygal from the chart's JSON answer.

pygal writes SVG itself (pure Python, no native libraries, no font cache to build), which is what
an API answer needs; matplotlib would bring numpy and a raster stack to draw the same lines. pygal
has no step line, so the stock is drawn as one on an XY chart: at each change the line runs level
at the old quantity, then straight up or down to the new one. The changes themselves are a second series of
dots on it, each carrying its exact time and quantity as its label (``<desc class="label">``), so
the picture can be read back (the tests do). No script is linked (pygal's tooltips load one from
the web): the SVG is self-contained.
"""
from datetime import datetime, timedelta
from decimal import Decimal

import pygal
from pygal.style import Style

LINE = "#1f5f99"
STYLE = Style(
    background="white", plot_background="white", foreground="#333", foreground_strong="#111",
    foreground_subtle="#ccc", colors=(LINE, LINE), font_family="DejaVu Sans, Helvetica, Arial, sans-serif",
    guide_stroke_color="#ddd", major_guide_stroke_color="#ddd", guide_stroke_dasharray="3,3",
)
TICKS = 6  # intervals of the time axis
MAX_POINTS = 5000  # changes one chart draws (about 0.7 s and 1.5 MB of SVG here); a longer period is refused


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _day(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


def _written(span: timedelta) -> str:
    """How the time axis writes a time, for a period of ``span``."""
    if span >= timedelta(days=TICKS):
        return "%Y-%m-%d"
    if span >= timedelta(minutes=TICKS):
        return "%Y-%m-%d %H:%M"
    return "%H:%M:%S.%f"


def _quantity(value: float) -> str:
    """A quantity on the axis: ``1,250.5``."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def title(chart: dict) -> str:
    """'BOLT-M8 Hex bolt M8x40 at MAIN/A-01, 2026-01-01 00:00 to 2026-02-01 00:00 UTC'."""
    period = f"{_day(_time(chart['from']))} to {_day(_time(chart['to']))} UTC"
    return f"{chart['sku']} {chart['name']} at {chart['where']}, {period}"


def stock_chart_svg(chart: dict) -> bytes:
    """``chart`` is ``StockChartSerializer``'s answer: a step line from the opening at ``from``
    through each change to the closing at ``to``, a dot at each change.

    Time is drawn as seconds after ``from`` (pygal's own time axis turns times into floats of
    seconds since 1970, which lose the microseconds of a short period and fail at the calendar's
    ends); the axis writes them back as times."""
    start, end = _time(chart["from"]), _time(chart["to"])
    span, unit = end - start, chart["unit"]
    written = _written(span)

    def offset(at: datetime) -> float:
        return (at - start).total_seconds()

    def time_at(seconds: float) -> str:
        return f"{start + min(max(timedelta(seconds=seconds), timedelta(0)), span):{written}}"

    changes = [(offset(_time(p["at"])), float(Decimal(p["quantity"])), p) for p in chart["points"]]
    held = float(Decimal(chart["opening"]))
    line = [(0.0, held)]
    for at, quantity, _ in changes:
        line += [(at, held), (at, quantity)]
        held = quantity
    line.append((offset(end), held))
    ticks = [offset(start + span * i / TICKS) for i in range(TICKS + 1)]
    drawing = pygal.XY(
        title=title(chart), style=STYLE, width=960, height=480, show_legend=False, js=[], include_x_axis=True,
        x_title="Business time (UTC)", y_title=f"Quantity ({unit})", x_label_rotation=25, truncate_label=-1,
        order_min=-3,  # no scale finer than a thousandth (a quantity's; pygal's search for one must end)
        x_labels=[{"value": tick, "label": time_at(tick)} for tick in ticks],
        x_value_formatter=time_at, value_formatter=_quantity,
    )
    drawing.add("stock", line, show_dots=False, stroke_style={"width": 2})
    drawing.add("changes", [
        {"value": (at, quantity), "label": f"{point['quantity']} {unit} at {point['at']}"} for at, quantity, point in changes
    ], stroke=False, dots_size=3)
    return drawing.render()
