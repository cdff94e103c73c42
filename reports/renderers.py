"""The reports in the formats besides JSON, as DRF renderers of the JSON answer (so every format
says the same): the stock report as CSV and XLSX, the expiry report and a lot's trace as CSV, the
chart as SVG.

CSV and XLSX lay the report out as lines in reading order: each product's rows, then that
product's total, then the report's total, under one header row. A line's ``line`` column says
which it is. CSV writes every value as JSON does (decimals with their three places, text
verbatim); XLSX writes quantities and counts as numbers with a number format, text always as text
(a name beginning with ``=`` is no formula), and the period on a second sheet.
"""
import csv
import io
from copy import copy
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rest_framework.renderers import BaseRenderer

from .chart import stock_chart_svg
from .selectors import QUANTITIES

TEXT, NUMBER, QUANTITY, FLAG = "text", "number", "quantity", "flag"
COLUMNS = (  # (name, type, width in characters)
    ("line", TEXT, 14), ("product", NUMBER, 9), ("sku", TEXT, 16), ("name", TEXT, 28), ("unit", TEXT, 6),
    ("location", NUMBER, 9), ("location_code", TEXT, 14), ("warehouse", NUMBER, 10), ("warehouse_code", TEXT, 14),
    *((name, QUANTITY, 15) for name in QUANTITIES),
    ("movements", NUMBER, 10), ("reconciled", FLAG, 10),
)
ROW, PRODUCT_TOTAL, TOTAL = "location", "product total", "total"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUANTITY_FORMAT = "#,##0.000"
NUMBER_FORMAT = "0"


def report_lines(report: dict):
    """The report's lines in reading order, each a dict of ``COLUMNS`` (those it has)."""
    totals = {total["product"]: total for total in report["products"]}
    rows = report["rows"]
    for index, row in enumerate(rows):
        yield {"line": ROW, **row}
        if index + 1 == len(rows) or rows[index + 1]["product"] != row["product"]:
            yield {"line": PRODUCT_TOTAL, **totals[row["product"]]}
    yield {"line": TOTAL, **report["total"]}


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CSVRenderer(BaseRenderer):
    """The stock report as CSV (RFC 4180: comma, double quotes, CRLF), UTF-8. Another report's CSV
    is a subclass naming its ``columns`` and its ``lines`` (dicts of them) in reading order."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    columns: tuple[str, ...] = tuple(name for name, _, _ in COLUMNS)

    def lines(self, data: dict):
        return report_lines(data)

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for line in self.lines(data):
            writer.writerow(_csv_value(line.get(name)) for name in self.columns)
        return out.getvalue().encode(self.charset)


class ExpiryCSVRenderer(CSVRenderer):
    """The expiry report as CSV: a line per lot and location, then the expired lines' total and the
    total."""

    columns = (
        "line", "product", "sku", "name", "unit", "lot", "lot_code", "expires_on", "days_left", "expired",
        "location", "location_label", "warehouse", "quantity", "unit_price", "value", "rows", "lots",
    )

    def lines(self, data: dict):
        for row in data["rows"]:
            yield {"line": ROW, **row}
        yield {"line": "expired total", **data["expired"]}
        yield {"line": TOTAL, **data["total"]}


class TraceCSVRenderer(CSVRenderer):
    """A lot's trace as CSV: its movements in ledger order, then its stock per location and the total."""

    columns = (
        "line", "position", "kind", "occurred_at", "recorded_at", "user", "location", "location_label",
        "to_location", "to_location_label", "quantity", "delta", "reference", "reason", "reverses", "allocation",
    )

    def lines(self, data: dict):
        for movement in data["movements"]:
            yield {"line": "movement", **movement}
        for here in data["stock"]:
            yield {"line": "on hand", **here}
        yield {"line": "on hand total", "quantity": data["on_hand"]}


class _Cells:
    """Cells of one sheet, styled by type and emphasis. Each style is worked out once and copied
    onto its cells: openpyxl looks a style up in the workbook each time one is set on a cell, which
    costs more than writing the cell."""

    def __init__(self, sheet):
        self.sheet = sheet
        self.styles = {(kind, bold): self._style(kind, bold) for kind in (TEXT, NUMBER, QUANTITY, FLAG) for bold in (False, True)}

    def _style(self, kind: str, bold: bool):
        cell = WriteOnlyCell(self.sheet)
        if kind == QUANTITY:
            cell.number_format = QUANTITY_FORMAT
        elif kind == NUMBER:
            cell.number_format = NUMBER_FORMAT
        if bold:
            cell.font = Font(bold=True)
        return cell._style

    def __call__(self, value, kind: str = TEXT, bold: bool = False) -> WriteOnlyCell:
        if kind == QUANTITY and value is not None:
            value = Decimal(value)
        cell = WriteOnlyCell(self.sheet, value=value)
        if kind == TEXT and value is not None:
            cell.data_type = "s"  # openpyxl would take text beginning with "=" for a formula
        cell._style = copy(self.styles[kind, bold])
        return cell


class XLSXRenderer(BaseRenderer):
    """The stock report as an Excel workbook: the sheet "Stock report" (a header row, frozen and
    filtered; bold totals), and "Period" (what the report covers)."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Stock report")
        cell = _Cells(sheet)
        lines = list(report_lines(data))
        for index, (_, _, width) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(lines) + 1}"
        sheet.append([cell(name, TEXT, bold=True) for name, _, _ in COLUMNS])
        for line in lines:
            total = line["line"] != ROW
            sheet.append([cell(line.get(name), kind, bold=total) for name, kind, _ in COLUMNS])
        period = book.create_sheet("Period")
        cell = _Cells(period)
        period.column_dimensions["A"].width, period.column_dimensions["B"].width = 12, 90
        for name in ("from", "to", "position", "product", "location", "warehouse", "reconciled"):
            period.append([cell(name, bold=True), data[name]])
        period.append([cell("figures", bold=True), cell(
            "opening + receipts - issues + transfers_in - transfers_out + count_gains - count_losses + reversals"
            " = closing; from inclusive, to exclusive, in business time (UTC)"
        )])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


class SVGRenderer(BaseRenderer):
    """The stock-over-time chart as SVG."""

    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return stock_chart_svg(data)
