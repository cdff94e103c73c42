"""The stock report as CSV and XLSX says what the JSON says: the same lines, the same totals; XLSX
with numbers as numbers in the quantity format, text as text, and the period on its own sheet."""
import csv
import io
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports import api
from tests.factories import ProductFactory

from .conftest import JANUARY
from .ledgers import random_ledger

pytestmark = pytest.mark.django_db
REPORT = "/api/v1/reports/stock/"
QUANTITIES = ("opening", "receipts", "issues", "transfers_in", "transfers_out", "count_gains", "count_losses",
              "reversals", "closing")


def _expected_lines(body: dict) -> list[dict]:
    """The JSON's rows, each product's total after its rows, then the total, as (line, figures)."""
    lines = []
    for index, row in enumerate(body["rows"]):
        lines.append(("location", row))
        if index + 1 == len(body["rows"]) or body["rows"][index + 1]["product"] != row["product"]:
            lines.append(("product total", next(p for p in body["products"] if p["product"] == row["product"])))
    return [*lines, ("total", body["total"])]


def _figures(line: dict) -> dict:
    return {**{name: Decimal(str(line[name])) for name in QUANTITIES}, "movements": int(line["movements"])}


@pytest.fixture
def ledger(clerk):
    _, _, _, first = random_ledger(random.Random(31), clerk, movements=100)
    return {"from": (first + timedelta(days=15)).isoformat(), "to": (first + timedelta(days=45)).isoformat()}


def test_csv_says_what_json_says(auditor_client, ledger):
    body = auditor_client.get(REPORT, ledger).json()
    answer = auditor_client.get(REPORT, {**ledger, "format": "csv"})
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith('attachment; filename="stock-report_') and answer["Content-Disposition"].endswith('.csv"')
    header, *lines = list(csv.reader(io.StringIO(answer.content.decode())))
    assert header[:3] == ["line", "product", "sku"] and header[-2:] == ["movements", "reconciled"]
    lines = [dict(zip(header, line)) for line in lines]
    expected = _expected_lines(body)
    assert [line["line"] for line in lines] == [kind for kind, _ in expected]
    for line, (kind, source) in zip(lines, expected):
        assert _figures(line) == _figures(source) and line["reconciled"] == "true"
        assert all(line[name] == source[name] for name in QUANTITIES)  # the same text: three decimals
        if kind != "total":
            assert (line["product"], line["sku"]) == (str(source["product"]), source["sku"])
        if kind == "location":
            assert (line["location_code"], line["warehouse_code"]) == (source["location_code"], source["warehouse_code"])
        else:
            assert line["location"] == line["location_code"] == ""


def test_xlsx_says_what_json_says_with_numbers_as_numbers(auditor_client, ledger):
    body = auditor_client.get(REPORT, ledger).json()
    answer = auditor_client.get(REPORT, ledger, HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert answer.status_code == 200 and answer["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Stock report", "Period"]
    sheet = book["Stock report"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:T{sheet.max_row}"
    header, *rows = list(sheet.iter_rows())
    names = [cell.value for cell in header]
    assert all(cell.font.bold for cell in header)
    expected = _expected_lines(body)
    assert len(rows) == len(expected)
    for cells, (kind, source) in zip(rows, expected):
        line = {name: cell for name, cell in zip(names, cells)}
        assert line["line"].value == kind and line["line"].font.bold == (kind != "location")
        for name in QUANTITIES:
            assert isinstance(line[name].value, (int, float)) and line[name].number_format == "#,##0.000"
            assert Decimal(str(line[name].value)).quantize(Decimal("0.001")) == Decimal(source[name])
        assert line["movements"].value == source["movements"] and line["reconciled"].value is True
    period = {row[0]: row[1] for row in book["Period"].iter_rows(values_only=True)}
    assert (period["from"], period["to"], period["position"], period["reconciled"]) == (
        body["from"], body["to"], body["position"], True)


def test_text_that_looks_like_a_formula_stays_text(auditor_client, post, bins):
    product = ProductFactory(sku="=1+1", name='=HYPERLINK("http://example.com","click")')
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5", occurred_at="2026-01-10T00:00:00Z")
    book = load_workbook(io.BytesIO(auditor_client.get(REPORT, {**JANUARY, "format": "xlsx"}).content))
    cells = {cell.value: cell for cell in book["Stock report"]["C"]}
    assert cells["=1+1"].data_type == "s"
    assert book["Stock report"]["D2"].value == product.name and book["Stock report"]["D2"].data_type == "s"


def test_an_empty_report_is_a_header_and_a_zero_total(auditor_client, db):
    answer = auditor_client.get(REPORT, {**JANUARY, "format": "csv"})
    header, total = list(csv.reader(io.StringIO(answer.content.decode())))
    assert total[0] == "total" and total[header.index("closing")] == "0.000" and total[-1] == "true"


def test_a_workbook_of_too_many_lines_is_refused_naming_the_format(auditor_client, ledger, monkeypatch):
    lines = len(list(csv.reader(io.StringIO(auditor_client.get(REPORT, {**ledger, "format": "csv"}).content.decode())))) - 1
    monkeypatch.setattr(api, "MAX_XLSX_LINES", lines)
    assert auditor_client.get(REPORT, {**ledger, "format": "xlsx"}).status_code == 200
    monkeypatch.setattr(api, "MAX_XLSX_LINES", lines - 1)
    body = auditor_client.get(REPORT, {**ledger, "format": "xlsx"}).json()
    assert (body["code"], list(body["errors"])) == ("validation_error", ["format"])
    assert f"has {lines:,} lines" in body["detail"]
