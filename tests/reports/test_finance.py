"""The finance reports on a small FIFO ledger worked by hand, their files, exports and who may read them.

The ledger (all FIFO, one warehouse; categories Fasteners and Seals):
- GASKET (Seals): 2026-01-02 receipt 30 @ 1.50 (45.00); never issued.
- BOLT (Fasteners): 01-05 receipt 10 @ 2 (20), 01-20 receipt 10 @ 4 (40), 02-10 issue 15: COGS 10 x 2 + 5 x 4 = 40.
- NUT (Fasteners): 01-10 receipt 100 @ 0.50 (50), 02-15 issue 20: COGS 20 x 0.50 = 10.
"""
import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from accounts.roles import FINANCE
from reports.models import ExportJob
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.fixtures import _client_for
from valuation.services import valuation_catch_up

pytestmark = pytest.mark.django_db
REPORTS = ("valuation", "flows", "turnover", "slow-stock")
PERIOD = "from=2026-01-01&to=2026-04-01"
QUERIES = {"valuation": "as_of=2026-01-31", "flows": PERIOD, "turnover": PERIOD, "slow-stock": "as_of=2026-03-01T00:00:00Z&days=14&dead_days=30"}


@pytest.fixture
def books(post, bins):
    fasteners, seals = CategoryFactory(name="Fasteners"), CategoryFactory(name="Seals")
    products = {sku: ProductFactory(sku=sku, category=category, valuation_method="fifo")
                for sku, category in (("BOLT", fasteners), ("GASKET", seals), ("NUT", fasteners))}
    where = bins[0].pk
    for sku, kind, quantity, cost, day in (
        ("GASKET", "receipt", "30", "1.50", "01-02"), ("BOLT", "receipt", "10", "2.00", "01-05"), ("NUT", "receipt", "100", "0.50", "01-10"),
        ("BOLT", "receipt", "10", "4.00", "01-20"), ("BOLT", "issue", "15", None, "02-10"), ("NUT", "issue", "20", None, "02-15"),
    ):
        fields = {"unit_cost": cost} if cost else {}
        post(kind=kind, product=products[sku].pk, location=where, quantity=quantity, occurred_at=f"2026-{day}T08:00:00Z", **fields)
    valuation_catch_up()
    return {"products": products, "fasteners": fasteners, "seals": seals}


def _get(client, report: str, query: str = ""):
    return client.get(f"/api/v1/reports/{report}/?{query}")


@pytest.mark.parametrize("report", REPORTS)
def test_finance_and_managers_read_the_finance_reports_clerks_and_auditors_do_not(
        report, finance_client, manager_client, clerk_client, auditor_client, anonymous_client, books):
    assert _get(finance_client, report, QUERIES[report]).status_code == 200
    assert _get(manager_client, report, QUERIES[report]).status_code == 200
    for refused in (clerk_client, auditor_client):
        response = _get(refused, report, QUERIES[report])
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert _get(anonymous_client, report, QUERIES[report]).status_code == 401


def test_valuation_as_of_a_date_per_product_category_and_warehouse(finance_client, books, warehouse):
    body = _get(finance_client, "valuation", "as_of=2026-01-31").json()
    assert [(l["sku"], l["quantity"], l["value"]) for l in body["lines"]] == [
        ("BOLT", "20.000", "60.0000"), ("GASKET", "30.000", "45.0000"), ("NUT", "100.000", "50.0000")]
    assert body["total"] == {"quantity": "150.000", "value": "155.0000"}
    by_category = _get(finance_client, "valuation", "as_of=2026-01-31&group_by=category").json()["lines"]
    assert [(l["category_name"], l["value"]) for l in by_category] == [("Fasteners", "110.0000"), ("Seals", "45.0000")]
    by_warehouse = _get(finance_client, "valuation", "group_by=warehouse").json()
    assert [(l["warehouse_code"], l["value"]) for l in by_warehouse["lines"]] == [("MAIN", "105.0000")]  # 155 - 40 - 10
    assert _get(finance_client, "valuation", "as_of=2026-01-04").json()["total"]["value"] == "45.0000"


def test_cogs_and_receipts_value_per_month_and_category_equal_the_hand_computation(finance_client, books):
    body = _get(finance_client, "flows", PERIOD).json()
    assert [(l["period_start"][:10], l["category_name"], l["received_quantity"], l["receipts_value"], l["issued_quantity"], l["cogs"])
            for l in body["lines"]] == [
        ("2026-01-01", "Fasteners", "120.000", "110.0000", "0.000", "0.0000"),
        ("2026-01-01", "Seals", "30.000", "45.0000", "0.000", "0.0000"),
        ("2026-02-01", "Fasteners", "0.000", "0.0000", "35.000", "50.0000"),
    ]
    assert (body["total"]["receipts_value"], body["total"]["cogs"]) == ("155.0000", "50.0000")
    by_product = _get(finance_client, "flows", "from=2026-02-01&to=2026-03-01&group_by=product&period=week").json()["lines"]
    assert [(l["period_start"][:10], l["sku"], l["category_name"], l["cogs"]) for l in by_product] == [
        ("2026-02-09", "BOLT", "Fasteners", "40.0000"), ("2026-02-09", "NUT", "Fasteners", "10.0000")]


def test_turnover_and_days_of_inventory_on_a_daily_average(finance_client, books):
    # 1-10 Feb (10 days): BOLT worth 60 at the end of 1-9 Feb and 20 at the end of the 10th: average (9 x 60 + 20) / 10 = 56;
    # COGS 40: turnover 40 / 56 = 0.7143, days of inventory 56 x 10 / 40 = 14. NUT: 50 all along, no COGS.
    body = _get(finance_client, "turnover", "from=2026-02-01&to=2026-02-11").json()
    lines = {l["sku"]: l for l in body["lines"]}
    assert (lines["BOLT"]["opening_value"], lines["BOLT"]["closing_value"], lines["BOLT"]["average_value"]) == ("60.0000", "20.0000", "56.0000")
    assert (lines["BOLT"]["cogs"], lines["BOLT"]["turnover"], lines["BOLT"]["days_of_inventory"]) == ("40.0000", "0.7143", "14.0000")
    assert (lines["NUT"]["average_value"], lines["NUT"]["turnover"], lines["NUT"]["days_of_inventory"]) == ("50.0000", None, None)
    assert body["parameters"]["days"] == 10
    # Fasteners: average 56 + 50 = 106, COGS 40: 0.3774 and 1060 / 40 = 26.5 days; Seals: 45, no COGS
    categories = {l["category_name"]: l for l in _get(finance_client, "turnover", "from=2026-02-01&to=2026-02-11&group_by=category").json()["lines"]}
    assert (categories["Fasteners"]["average_value"], categories["Fasteners"]["turnover"], categories["Fasteners"]["days_of_inventory"]) == (
        "106.0000", "0.3774", "26.5000")
    assert (categories["Seals"]["average_value"], categories["Seals"]["turnover"]) == ("45.0000", None)


def test_slow_and_dead_stock_are_exactly_the_products_without_an_issue_in_n_days(finance_client, books):
    # as of 1 Mar 00:00: BOLT last issued 10 Feb 08:00 (18 days 16 h ago), NUT 15 Feb 08:00 (13 days 16 h), GASKET never
    body = _get(finance_client, "slow-stock", QUERIES["slow-stock"]).json()
    assert [(l["sku"], l["quantity"], l["value"], l["days_since_issue"], l["dead"]) for l in body["lines"]] == [
        ("GASKET", "30.000", "45.0000", None, True), ("BOLT", "5.000", "20.0000", 18, False)]
    assert body["lines"][1]["last_issue_at"] == "2026-02-10T08:00:00Z"
    assert body["total"] == {"quantity": "35.000", "value": "65.0000"}
    assert [l["sku"] for l in _get(finance_client, "slow-stock", "as_of=2026-03-01T00:00:00Z&days=13&dead_days=18").json()["lines"]] == [
        "GASKET", "BOLT", "NUT"]
    dead = _get(finance_client, "slow-stock", "as_of=2026-03-01T00:00:00Z&days=13&dead_days=18").json()["lines"]
    assert [(l["sku"], l["dead"]) for l in dead] == [("GASKET", True), ("BOLT", True), ("NUT", False)]


@pytest.mark.parametrize("report, query, field", [
    ("valuation", "group_by=location", "group_by"), ("valuation", "as_of=yesterday", "as_of"), ("valuation", "product=0", "product"),
    ("valuation", "as_of=", "as_of"), ("flows", "from=2026-02-01", "to"), ("flows", "from=2026-02-01&to=2026-01-01", "to"),
    ("flows", f"{PERIOD}&period=year", "period"), ("flows", f"{PERIOD}&group_by=warehouse", "group_by"),
    ("turnover", "from=2026-13-01&to=2027-01-01", "from"), ("turnover", f"{PERIOD}&group_by=product&group_by=category", "group_by"),
    ("slow-stock", "days=0", "days"), ("slow-stock", "days=30&dead_days=10", "dead_days"), ("slow-stock", "days=abc", "days"),
    ("valuation", "format=pdf", "format"),
])
def test_bad_parameters_are_a_400_naming_them(finance_client, report, query, field):
    response = _get(finance_client, report, query)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error" and field in response.json()["errors"]


@pytest.mark.parametrize("name", ["product", "category", "warehouse"])
def test_a_scope_not_there_is_a_404_naming_it(finance_client, name):
    response = _get(finance_client, "valuation", f"{name}=999999")
    assert (response.status_code, response.json()["code"], list(response.json()["errors"])) == (404, "not_found", [name])


def _xlsx_total(content: bytes) -> dict:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, last = rows[0], rows[-1]
    assert last[0] == "total"
    return {name: value for name, value in zip(header, last) if value is not None and name != "line"}


@pytest.mark.parametrize("report", REPORTS)
def test_an_xlsx_opens_with_openpyxl_and_its_totals_equal_the_json(finance_client, books, report):
    body = _get(finance_client, report, QUERIES[report]).json()
    response = _get(finance_client, report, QUERIES[report] + "&format=xlsx")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    totals = _xlsx_total(response.content)
    expected = {name: D(value) for name, value in body["total"].items() if value is not None}
    assert {name: D(str(value)) for name, value in totals.items()} == expected
    csv = _get(finance_client, report, QUERIES[report] + "&format=csv").content.decode()
    assert len(csv.strip().splitlines()) == len(body["lines"]) + 2  # the header, the lines, the total


def test_an_export_runs_tells_its_progress_and_its_file_equals_the_api(finance_client, manager_client, books, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post("/api/v1/reports/exports/", {"report": "flows", "format": "xlsx", "parameters": {
            "from": "2026-01-01", "to": "2026-04-01"}}, format="json")
        numbers = finance_client.post("/api/v1/reports/exports/", {"report": "slow", "format": "csv", "parameters": {
            "days": 14, "dead_days": 30}}, format="json")
    assert numbers.json()["parameters"] == {"days": "14", "dead_days": "30"}  # kept as the GET takes them
    assert response.status_code == 202, response.content
    job = response.json()
    status = finance_client.get(f"/api/v1/reports/exports/{job['id']}/").json()
    assert (status["state"], status["done"], status["total"]) == ("done", 4, 4)  # three lines and the total (eager Celery: at once)
    assert status["download"].endswith(f"/api/v1/reports/exports/{job['id']}/download/")
    download = finance_client.get(f"/api/v1/reports/exports/{job['id']}/download/")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    body = _get(finance_client, "flows", PERIOD).json()
    assert {n: D(str(v)) for n, v in _xlsx_total(download.content).items()} == {n: D(v) for n, v in body["total"].items()}
    assert manager_client.get(f"/api/v1/reports/exports/{job['id']}/download/").status_code == 200


def test_only_the_requester_or_a_manager_sees_an_export(finance_client, books, clerk_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = finance_client.post("/api/v1/reports/exports/", {"report": "valuation", "format": "csv"}, format="json").json()
    other = _client_for(UserFactory(roles=[FINANCE]))
    for path in (f"/api/v1/reports/exports/{job['id']}/", f"/api/v1/reports/exports/{job['id']}/download/"):
        assert other.get(path).json()["code"] == "permission_denied"
        assert clerk_client.get(path).status_code == 403
    assert finance_client.get("/api/v1/reports/exports/999999/").status_code == 404
    assert clerk_client.post("/api/v1/reports/exports/", {"report": "valuation", "format": "csv"}, format="json").status_code == 403


def test_an_export_not_done_is_a_409_and_bad_requests_a_400(finance_client, finance):
    pending = ExportJob.objects.create(report="valuation", format="csv", requested_by=finance)
    response = finance_client.get(f"/api/v1/reports/exports/{pending.pk}/download/")
    assert (response.status_code, response.json()["code"], response.json()["state"]) == (409, "export_not_ready", "pending")
    for body, fields in (({"report": "ledger", "format": "csv"}, ["report"]), ({"report": "valuation", "format": "pdf"}, ["format"]),
                         ({"report": "flows", "format": "csv", "parameters": {"from": "2026-01-01"}}, ["parameters.to"]),
                         ({"report": "flows", "format": "csv"}, ["parameters.from", "parameters.to"]),
                         ({"report": "valuation", "format": "csv", "parameters": {"shelf": "A"}}, ["parameters.shelf"]),
                         ({"report": "slow", "format": "csv", "parameters": {"days": [90]}}, ["parameters.days"]),
                         ({"report": "slow", "format": "csv", "parameters": {"days": 30, "dead_days": 10}}, ["parameters.dead_days"]),
                         ({"report": "valuation", "format": "csv", "priority": "high"}, ["priority"])):
        response = finance_client.post("/api/v1/reports/exports/", body, format="json")
        errors = response.json()["errors"]
        assert (response.status_code, response.json()["code"], sorted(errors)) == (400, "validation_error", fields)
        assert all(isinstance(message, str) for messages in errors.values() for message in messages)  # the one error shape
    assert not ExportJob.objects.exclude(pk=pending.pk).exists()


def test_the_command_writes_the_same_file(tmp_path, finance_client, books):
    target = tmp_path / "turnover.xlsx"
    call_command("finance_export", "turnover", str(target), "--param", "from=2026-02-01", "--param", "to=2026-02-11",
                 stdout=io.StringIO(), stderr=io.StringIO())
    body = _get(finance_client, "turnover", "from=2026-02-01&to=2026-02-11").json()
    assert {n: D(str(v)) for n, v in _xlsx_total(target.read_bytes()).items()} == {n: D(v) for n, v in body["total"].items() if v is not None}
    csv = tmp_path / "slow.csv"
    call_command("finance_export", "slow", str(csv), "--param", "as_of=2026-03-01T00:00:00Z", "--param", "days=14",
                 "--param", "dead_days=30", stdout=io.StringIO(), stderr=io.StringIO())
    assert [line.split(",")[2] for line in csv.read_text().splitlines()[1:3]] == ["GASKET", "BOLT"]
