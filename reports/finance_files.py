"""The finance reports as files, from their JSON answer (so every format says the same): CSV (RFC
4180, UTF-8, every value as JSON writes it) and XLSX (money, quantities and ratios as numbers with a
number format, text always text, the total bold, the parameters on a second sheet). The lines come
first, under one header row, then the total. ``progress(done, total)`` is called as lines are written
(every ``STEP`` lines and at the end), which is how an export job tells how far it is.

The DRF renderers at the end are these writers for the API's ``?format=csv|xlsx``.
"""
import csv
import io
from collections.abc import Callable
from copy import copy
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rest_framework.renderers import BaseRenderer

from . import finance
from .renderers import XLSX

STEP = 500
TOTAL = "total"
_FORMATS = {finance.MONEY: "#,##0.0000", finance.QUANTITY: "#,##0.000", finance.RATIO: "0.0000", finance.NUMBER: "0"}
_NUMERIC = (finance.MONEY, finance.QUANTITY, finance.RATIO)

Progress = Callable[[int, int], None]


def _lines(data: dict):
    for line in data["lines"]:
        yield {"line": "line", **line}
    yield {"line": TOTAL, **data["total"]}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(data: dict, out, progress: Progress | None = None) -> None:
    """The report's lines and total as CSV into the binary file ``out``."""
    names = [name for name, _ in finance.columns(data["report"], data["group_by"])]
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(names)
    total = len(data["lines"]) + 1
    for done, line in enumerate(_lines(data), start=1):
        writer.writerow(_text(line.get(name)) for name in names)
        if progress and (done % STEP == 0 or done == total):
            progress(done, total)
    text.detach()


def write_xlsx(data: dict, out, progress: Progress | None = None) -> None:
    """The report as a workbook into the binary file ``out``: the sheet of lines, and "Parameters"."""
    columns = finance.columns(data["report"], data["group_by"])
    book = Workbook(write_only=True)
    sheet = book.create_sheet(data["report"].capitalize())
    styles = {}
    for kind in (*_FORMATS, finance.TEXT, finance.TIME, finance.FLAG):
        for bold in (False, True):
            cell = WriteOnlyCell(sheet)
            if kind in _FORMATS:
                cell.number_format = _FORMATS[kind]
            if bold:
                cell.font = Font(bold=True)
            styles[kind, bold] = cell._style

    def cell(value, kind=finance.TEXT, bold=False):
        if value is not None and kind in _NUMERIC:
            value = Decimal(value)
        made = WriteOnlyCell(sheet, value=value)
        if kind in (finance.TEXT, finance.TIME) and value is not None:
            made.data_type = "s"  # never a formula
        made._style = copy(styles[kind, bold])
        return made

    for index, (name, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(name) + 2)
    sheet.freeze_panes = "A2"
    total = len(data["lines"]) + 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{total + 1}"
    sheet.append([cell(name, bold=True) for name, _ in columns])
    for done, line in enumerate(_lines(data), start=1):
        bold = line["line"] == TOTAL
        sheet.append([cell(line.get(name), kind, bold) for name, kind in columns])
        if progress and (done % STEP == 0 or done == total):
            progress(done, total)
    parameters = book.create_sheet("Parameters")
    parameters.append(["report", data["report"]])
    parameters.append(["group_by", data["group_by"]])
    for name, value in data["parameters"].items():
        parameters.append([name, _text(value)])
    book.save(out)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


class FinanceCSVRenderer(BaseRenderer):
    """A finance report as CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.BytesIO()
        write_csv(data, out)
        return out.getvalue()


class FinanceXLSXRenderer(BaseRenderer):
    """A finance report as an Excel workbook."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.BytesIO()
        write_xlsx(data, out)
        return out.getvalue()
