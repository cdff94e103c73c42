import pytest

from projections.services import projections_catch_up
from tests.factories import CategoryFactory, LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(post, product, bins):
    other = ProductFactory(sku="NUT-M8", category=CategoryFactory(name="Nuts"), unit_price="0.5000")
    far = LocationFactory(warehouse=WarehouseFactory(code="EAST"), code="E-1")
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", unit_cost="2.00")
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="10")
    post(kind="receipt", product=other.pk, location=far.pk, quantity="4", unit_cost="0.25")
    projections_catch_up()
    return {"product": product, "other": other, "far": far}


def rows(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("role", ["clerk", "auditor", "finance", "manager"])
def test_every_role_reads_stock(request, role, stocked):
    client = request.getfixturevalue(f"{role}_client")
    for url in ("/api/v1/stock/", "/api/v1/stock/by-product/", "/api/v1/stock/by-location/", "/api/v1/stock/status/"):
        assert client.get(url).status_code == 200


def test_anonymous_and_roleless_users_are_refused(anonymous_client, client_for, db):
    from tests.factories import UserFactory

    assert anonymous_client.get("/api/v1/stock/").status_code == 401
    assert client_for(UserFactory()).get("/api/v1/stock/").status_code == 403
    assert client_for(UserFactory()).get("/api/v1/stock/as-of/", {"product": 1, "position": 1}).status_code == 403


def test_stock_lists_non_zero_rows_unless_asked(finance_client, stocked, bins):
    listed = rows(finance_client, "/api/v1/stock/")
    assert {(r["sku"], r["location"], r["quantity"]) for r in listed} == {
        ("BOLT-M8", bins[1].pk, "10.000"), ("NUT-M8", stocked["far"].pk, "4.000"),
    }
    with_zero = rows(finance_client, "/api/v1/stock/", include_zero="true")
    assert ("BOLT-M8", bins[0].pk, "0.000") in {(r["sku"], r["location"], r["quantity"]) for r in with_zero}


def test_stock_filters(finance_client, stocked, warehouse, bins):
    assert [r["sku"] for r in rows(finance_client, "/api/v1/stock/", warehouse=warehouse.pk)] == ["BOLT-M8"]
    assert [r["sku"] for r in rows(finance_client, "/api/v1/stock/", category=stocked["other"].category_id)] == ["NUT-M8"]
    assert [r["location"] for r in rows(finance_client, "/api/v1/stock/", location=bins[1].pk)] == [bins[1].pk]
    assert [r["sku"] for r in rows(finance_client, "/api/v1/stock/", sku="NUT-M8")] == ["NUT-M8"]
    assert rows(finance_client, "/api/v1/stock/", product=stocked["product"].pk, warehouse=stocked["far"].warehouse_id) == []


def test_bad_stock_filter_is_400(finance_client, db):
    response = finance_client.get("/api/v1/stock/", {"warehouse": "north"})
    assert response.status_code == 400
    assert "warehouse" in response.json()["errors"]


def test_by_product_values_stock(finance_client, stocked):
    bolt = rows(finance_client, "/api/v1/stock/by-product/", sku="BOLT-M8")[0]
    assert bolt["quantity"] == "10.000"
    assert bolt["average_unit_cost"] == "2.0000"
    assert bolt["value_at_cost"] == "20.0000"
    assert bolt["value_at_price"] == "25.0000"  # 10 x 2.50


def test_by_location_values_stock(finance_client, stocked):
    far = rows(finance_client, "/api/v1/stock/by-location/", location=stocked["far"].pk)[0]
    assert (far["quantity"], far["value_at_price"], far["value_at_cost"]) == ("4.000", "2.0000", "1.0000")


def test_status_shows_checkpoints_and_lag(finance_client, stocked, post, product, bins):
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="1")
    statuses = finance_client.get("/api/v1/stock/status/").json()
    assert {s["name"] for s in statuses} == {"stock_by_product_location", "stock_by_product", "stock_by_location", "stock_by_lot"}
    assert all((s["position"], s["head"], s["lag_events"]) == (3, 4, 1) for s in statuses)
    assert all(s["lag_seconds"] is not None and s["lag_seconds"] >= 0 for s in statuses)
