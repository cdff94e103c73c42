"""GET reports/stock/ and reports/stock/chart/: who may read them, and every refusal in the one
error body with a stable code, naming the parameter."""
from datetime import UTC, datetime

import pytest

from .conftest import JANUARY

pytestmark = pytest.mark.django_db
REPORT, CHART = "/api/v1/reports/stock/", "/api/v1/reports/stock/chart/"


@pytest.mark.parametrize("role", ["auditor_client", "finance_client", "manager_client"])
def test_auditors_finance_and_managers_read_the_report_and_the_chart(request, role, stocked):
    client = request.getfixturevalue(role)
    assert client.get(REPORT, JANUARY).status_code == 200
    assert client.get(CHART, {**JANUARY, "product": stocked.pk}).status_code == 200


def test_clerks_may_not_and_nobody_without_credentials(clerk_client, anonymous_client, stocked):
    for path, query in ((REPORT, {**JANUARY, "format": "csv"}), (CHART, {**JANUARY, "product": stocked.pk})):
        refused = clerk_client.get(path, query)
        assert (refused.status_code, refused["Content-Type"], refused.json()["code"]) == (403, "application/json", "permission_denied")
        assert anonymous_client.get(path, query).json()["code"] == "not_authenticated"


def test_the_report_as_json(auditor_client, stocked, bins):
    body = auditor_client.get(REPORT, {**JANUARY, "product": stocked.pk}).json()
    assert (body["from"], body["to"], body["product"], body["reconciled"]) == (
        "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", stocked.pk, True)
    rows = {row["location_code"]: row for row in body["rows"]}
    assert {k: rows["A-01"][k] for k in ("opening", "receipts", "transfers_out", "closing", "movements")} == {
        "opening": "0.000", "receipts": "100.000", "transfers_out": "30.000", "closing": "70.000", "movements": 2}
    assert {k: rows["A-02"][k] for k in ("transfers_in", "issues", "closing")} == {
        "transfers_in": "30.000", "issues": "12.000", "closing": "18.000"}
    [total] = body["products"]
    assert (total["sku"], total["locations"], total["closing"], total["transfers_in"]) == ("BOLT-M8", 2, "88.000", "30.000")
    assert body["total"]["closing"] == "88.000"
    for line in (*body["rows"], *body["products"], body["total"]):  # an outflow is positive; nothing is "-0"
        assert not any(str(value).startswith("-") for value in line.values()), line


def test_a_date_alone_is_the_start_of_that_day_in_the_books_zone(auditor_client, stocked, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # as a period close reads "closed through" a date
    body = auditor_client.get(REPORT, {"from": "2026-01-01", "to": "2026-02-01T00:00:00+01:00", "product": stocked.pk}).json()
    bounds = [datetime.fromisoformat(body[name]) for name in ("from", "to")]
    assert bounds == [datetime(2025, 12, 31, 23, tzinfo=UTC), datetime(2026, 1, 31, 23, tzinfo=UTC)]


@pytest.mark.parametrize(("query", "field"), [
    ({"to": "2026-02-01"}, "from"),
    ({"from": "2026-01-01"}, "to"),
    ({"from": "yesterday", "to": "2026-02-01"}, "from"),
    ({"from": "2026-01-01", "to": "2026-02-30"}, "to"),
    ({"from": "2026-01-01T00:00:00", "to": "2026-02-01"}, "from"),  # a time names its zone
    ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
    ({"from": "2026-01-01", "to": "2026-01-01"}, "to"),
    ({**JANUARY, "product": "abc"}, "product"),
    ({**JANUARY, "warehouse": "0"}, "warehouse"),
    ({**JANUARY, "position": "-1"}, "position"),
    ({**JANUARY, "format": "pdf"}, "format"),
    ({**JANUARY, "format": ""}, "format"),
])
def test_a_bad_parameter_is_a_400_naming_it(auditor_client, stocked, query, field):
    for path in (REPORT, CHART):
        answer = auditor_client.get(path, {"product": stocked.pk, **query})
        assert answer.status_code == 400, (path, answer.content)
        assert answer["Content-Type"] == "application/json"
        body = answer.json()
        assert body["code"] == "validation_error" and field in body["errors"], (path, body)


def test_a_parameter_given_twice_is_a_400_naming_it(auditor_client, stocked):
    for name in ("from", "format"):
        answer = auditor_client.get(f"{REPORT}?from=2026-01-01&to=2026-02-01&{name}=2026-01-02")
        assert (answer.status_code, list(answer.json()["errors"])) == (400, [name])


@pytest.mark.parametrize("name", ["product", "location", "warehouse"])
def test_a_missing_record_is_a_404_naming_it(auditor_client, stocked, name):
    for path in (REPORT, CHART):
        query = {**JANUARY, "product": stocked.pk, name: 999999}
        answer = auditor_client.get(path, {**query, "format": "csv" if path == REPORT else "svg"})
        assert (answer.status_code, answer["Content-Type"]) == (404, "application/json")
        assert (answer.json()["code"], list(answer.json()["errors"])) == ("not_found", [name])


def test_the_chart_needs_a_product(auditor_client, stocked):
    body = auditor_client.get(CHART, JANUARY).json()
    assert (body["code"], list(body["errors"])) == ("validation_error", ["product"])


def test_an_accept_header_the_report_cannot_answer_is_a_406(auditor_client, stocked):
    answer = auditor_client.get(REPORT, JANUARY, HTTP_ACCEPT="application/pdf")
    assert (answer.status_code, answer.json()["code"]) == (406, "not_acceptable")
