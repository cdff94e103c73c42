"""The forecasts over HTTP: who reads them, what to order by urgency, a product's forecast with
its history, and its chart as SVG (read back)."""
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest

from forecasts.services import forecast_run
from tests.factories import LocationFactory, ProductFactory, WarehouseFactory

from .conftest import CUTOFF, TODAY, at

ORDERS, RUNS = "/api/v1/forecasts/orders/", "/api/v1/forecasts/runs/"
SVG = "{http://www.w3.org/2000/svg}"


def product_url(product, **query) -> str:
    return f"/api/v1/forecasts/products/{product.pk}/" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def planned(daily_issues):
    """Three products, 30 weeks of steady demand: SOON runs out in 2 days, LATER in 5, PLENTY not for months."""
    products = {}
    for sku, received in (("LATER", "2150"), ("SOON", "2120"), ("PLENTY", "9000")):
        products[sku] = ProductFactory(sku=sku, pack_size=Decimal("10"))
        daily_issues(products[sku], received=received, per_day="10", weeks=30)
    forecast_run(today=TODAY)
    return products


@pytest.mark.parametrize("role", ["finance", "manager", "auditor"])
def test_purchasing_roles_read_the_lists(role, planned, client_for, request):
    client = client_for(request.getfixturevalue(role))
    assert client.get(ORDERS).status_code == 200
    assert client.get(RUNS).status_code == 200
    assert client.get(product_url(planned["SOON"])).status_code == 200


def test_a_clerk_reads_none_of_them(planned, clerk_client, anonymous_client):
    for url in (ORDERS, RUNS, product_url(planned["SOON"])):
        assert clerk_client.get(url).status_code == 403
        assert anonymous_client.get(url).status_code == 401


def test_what_to_order_today_comes_most_urgent_first(planned, finance_client):
    body = finance_client.get(ORDERS).json()
    assert [line["sku"] for line in body["results"]] == ["SOON", "LATER"]
    soon = body["results"][0]
    assert (soon["on_hand"], soon["reorder_point"], soon["order_up_to"], soon["suggested_quantity"]) == (
        "20.000", "70.000", "140.000", "120.000")
    assert soon["days_of_cover"] == "2.0" and soon["stockout_on"] == str(TODAY + timedelta(days=2))
    assert soon["method"] and soon["warehouse_code"] == "MAIN"


def test_the_list_filters_by_product_and_warehouse(planned, finance_client):
    assert [line["sku"] for line in finance_client.get(f"{ORDERS}?product={planned['LATER'].pk}").json()["results"]] == ["LATER"]
    other = WarehouseFactory(code="EAST")
    assert finance_client.get(f"{ORDERS}?warehouse={other.pk}").json()["count"] == 0


def test_before_any_run_the_list_says_so(finance_client):
    response = finance_client.get(ORDERS)
    assert response.status_code == 404 and response.json()["code"] == "no_forecast_run"


def test_a_run_can_be_asked_for_and_one_not_there_lists_nothing(planned, finance_client):
    first = finance_client.get(RUNS).json()["results"][0]["id"]
    forecast_run(today=TODAY)
    assert {line["run"] for line in finance_client.get(f"{ORDERS}?run={first}").json()["results"]} == {first}
    assert {line["run"] for line in finance_client.get(f"{ORDERS}?run=").json()["results"]} == {first + 1}  # empty: the latest
    assert finance_client.get(f"{ORDERS}?run=999").json()["count"] == 0


def test_a_product_s_run_that_is_not_there_is_a_404_naming_it(planned, finance_client):
    response = finance_client.get(product_url(planned["SOON"], run=999))
    assert response.status_code == 404 and response.json()["errors"] == {"run": ["No forecasting run 999."]}


def test_a_product_s_forecast_carries_its_history_and_backtest(planned, manager_client):
    body = manager_client.get(product_url(planned["SOON"])).json()
    assert body["run"]["cutoff"] == str(CUTOFF) and body["product"] == planned["SOON"].pk
    [line] = body["lines"]
    assert len(line["history"]) == 30 and {week["quantity"] for week in line["history"]} == {"70.000"}
    assert line["history"][-1]["week"] == str(CUTOFF - timedelta(weeks=1))
    assert line["forecast"] == [{"week": str(CUTOFF), "forecast": "70.000", "low": "70.000", "high": "70.000"}]
    assert len(line["windows"]) == 12 and line["windows"][-1] == {
        "cut": str(CUTOFF - timedelta(weeks=1)), "forecast": ["70.000"], "actual": ["70.000"]}


def test_a_product_never_moved_is_a_404_that_says_why(planned, finance_client):
    response = finance_client.get(product_url(ProductFactory()))
    assert response.status_code == 404 and "was not looked at by run" in response.json()["detail"]


def test_the_chart_draws_the_history_the_forecast_and_the_backtest(planned, finance_client):
    response = finance_client.get(product_url(planned["SOON"], format="svg"))
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    labels = [desc.text for desc in root.iter(f"{SVG}desc") if desc.get("class") == "label"]
    assert sum("in the week of" in label and "forecast at the cut" not in label for label in labels) == 30 + 1 + 2
    assert sum(label.startswith("forecast at the cut of") for label in labels) == 12
    assert f"70.000 ea in the week of {CUTOFF}" in labels
    assert f"SOON {planned['SOON'].name} at MAIN: weekly demand, forecast (" in response.content.decode()


def test_the_chart_of_a_product_at_two_warehouses_needs_one_named(planned, finance_client, post):
    east = LocationFactory(warehouse=WarehouseFactory(code="EAST"), code="E-01")
    product = planned["PLENTY"]
    post(kind="transfer", product=product.pk, from_location=_bin(product), to_location=east.pk,
         quantity="5", occurred_at=at(CUTOFF - timedelta(weeks=2)))
    forecast_run(today=TODAY)
    response = finance_client.get(product_url(product, format="svg"))
    assert response.status_code == 400 and response.json()["errors"] == {
        "warehouse": ["The product is forecast at 2 warehouses; name one for its chart."]}
    assert finance_client.get(product_url(product, format="svg", warehouse=east.warehouse_id)).status_code == 200


def _bin(product) -> int:
    from ledger.models import StockLevel

    return StockLevel.objects.filter(product=product, quantity__gt=0).values_list("location_id", flat=True).first()


def test_runs_are_listed_newest_first(planned, finance_client):
    forecast_run(today=TODAY)
    runs = finance_client.get(RUNS).json()["results"]
    assert [run["id"] for run in runs] == sorted((run["id"] for run in runs), reverse=True)
    assert runs[0]["series"] == 3 and runs[0]["to_order"] == 2 and runs[0]["source"] == "command"


def test_demand_history_by_day_and_location(post, product, bins, warehouse, finance_client):
    monday = CUTOFF - timedelta(weeks=1)
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="100", occurred_at=at(monday, 6))
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="20",
         occurred_at=at(monday, 7))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="3", occurred_at=at(monday))
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="4", occurred_at=at(monday + timedelta(days=2)))
    weekly = finance_client.get(f"/api/v1/forecasts/demand/?product={product.pk}").json()
    assert weekly == {"product": product.pk, "period": "week", "by": "warehouse",
                      "rows": [{"warehouse": warehouse.pk, "period": str(monday), "quantity": "7.000"}]}
    daily = finance_client.get(f"/api/v1/forecasts/demand/?product={product.pk}&period=day&by=location").json()
    assert daily["rows"] == [
        {"location": bins[0].pk, "period": str(monday), "quantity": "3.000"},
        {"location": bins[1].pk, "period": str(monday + timedelta(days=2)), "quantity": "4.000"},
    ]
    one = finance_client.get(f"/api/v1/forecasts/demand/?product={product.pk}&by=location&location={bins[1].pk}").json()
    assert [row["quantity"] for row in one["rows"]] == ["4.000"]


def test_demand_history_needs_a_product(finance_client, clerk_client):
    response = finance_client.get("/api/v1/forecasts/demand/")
    assert response.status_code == 400 and "product" in response.json()["errors"]
    assert clerk_client.get("/api/v1/forecasts/demand/?product=1").status_code == 403
