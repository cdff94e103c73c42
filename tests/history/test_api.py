"""The history API: a price change through the API and one through raw SQL both show in the
product's history with before and after (the API's with its user and request id); filters,
pages, permissions and refusals."""
import pytest
from django.db import connection

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _history(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_price_change_through_the_api_and_one_through_raw_sql_both_show_with_before_and_after(
    manager, manager_client, auditor_client, product,
):
    response = manager_client.patch(
        f"/api/v1/products/{product.pk}/", {"unit_price": "3.75"}, HTTP_X_REQUEST_ID="req-price-1",
    )
    assert response.status_code == 200, response.content
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET unit_price = 4.5 WHERE id = %s", [product.pk])

    raw, api, created = _history(auditor_client, f"/api/v1/products/{product.pk}/history/")["results"]
    assert (raw["event"], raw["model"], raw["object"]) == ("update", "product", product.pk)
    assert raw["changes"] == {"unit_price": {"before": "3.7500", "after": "4.5000"}}
    assert raw["user"] is None and raw["context"] is None
    assert api["event"] == "update"
    assert api["changes"]["unit_price"] == {"before": "2.5000", "after": "3.7500"}
    assert api["user"] == manager.pk  # authenticated by its token, inside the view
    assert api["context"] == {
        "id": api["context"]["id"], "user": manager.pk, "username": manager.username,
        "method": "PATCH", "path": f"/api/v1/products/{product.pk}/", "request_id": "req-price-1",
    }
    assert created["event"] == "insert" and created["changes"]["sku"] == {"before": None, "after": "BOLT-M8"}


def test_a_created_record_is_recorded_with_the_posts_method_and_request_id(manager_client, auditor_client, warehouse):
    response = manager_client.post("/api/v1/locations/", {"warehouse": warehouse.pk, "code": "C-01"})
    assert response.status_code == 201, response.content
    [insert] = _history(auditor_client, "/api/v1/history/", model="location")["results"]
    assert insert["object"] == response.json()["id"]
    assert insert["context"]["method"] == "POST" and insert["context"]["request_id"]


def test_the_list_filters_by_model_object_user_event_and_time(manager, manager_client, auditor_client, product):
    other = ProductFactory(sku="NUT-M8")
    manager_client.patch(f"/api/v1/products/{product.pk}/", {"name": "Bolt M8 zinc"})
    everything = _history(auditor_client, "/api/v1/history/")
    assert {(r["model"], r["event"]) for r in everything["results"]} >= {("product", "insert"), ("product", "update"), ("category", "insert")}
    mine = _history(auditor_client, "/api/v1/history/", model="product", object=product.pk)["results"]
    assert {r["object"] for r in mine} == {product.pk}
    [by_manager] = _history(auditor_client, "/api/v1/history/", user=manager.pk)["results"]
    assert by_manager["changes"]["name"] == {"before": product.name, "after": "Bolt M8 zinc"}
    inserts = _history(auditor_client, "/api/v1/history/", model="product", event="insert")["results"]
    assert {r["object"] for r in inserts} == {product.pk, other.pk}
    at = by_manager["at"]
    assert [r["id"] for r in _history(auditor_client, "/api/v1/history/", model="product", after=at)["results"]] == [by_manager["id"]]
    assert by_manager["id"] not in [r["id"] for r in _history(auditor_client, "/api/v1/history/", model="product", before=at)["results"]]
    assert _history(auditor_client, "/api/v1/history/", model="", user="")["count"] == everything["count"]  # empty: not given


def test_pages_are_newest_first_and_bounded(auditor_client):
    ProductFactory.create_batch(3)
    first = _history(auditor_client, "/api/v1/history/", model="product", page_size=2)
    second = auditor_client.get(first["next"]).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and len(second["results"]) == 1
    times = [r["at"] for r in first["results"] + second["results"]]
    assert times == sorted(times, reverse=True)


def test_a_deleted_records_history_stays_and_the_delete_shows_its_last_values(auditor_client):
    product = ProductFactory(sku="GONE-1")
    product_id = product.pk
    product.delete()
    delete, insert = _history(auditor_client, f"/api/v1/products/{product_id}/history/")["results"]
    assert delete["event"] == "delete" and delete["changes"]["sku"] == {"before": "GONE-1", "after": None}
    assert insert["event"] == "insert"


@pytest.mark.parametrize("client_name, status", [
    ("anonymous_client", 401), ("clerk_client", 403), ("finance_client", 403), ("manager_client", 200), ("auditor_client", 200),
])
def test_auditors_and_managers_read_the_history_others_do_not(request, product, client_name, status):
    client = request.getfixturevalue(client_name)
    assert client.get("/api/v1/history/").status_code == status
    assert client.get(f"/api/v1/products/{product.pk}/history/").status_code == status


@pytest.mark.parametrize("params, field", [
    ({"model": "movement"}, "model"),
    ({"model": "product", "object": "x"}, "object"),
    ({"user": "99999999999999999999"}, "user"),
    ({"after": "yesterday"}, "after"),
    ({"before": "0001-01-01T00:00:00+05:00"}, "before"),
    ({"event": "rename"}, "event"),
])
def test_bad_filters_are_400s_naming_the_field(auditor_client, params, field):
    response = auditor_client.get("/api/v1/history/", params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and field in response.json()["errors"]


def test_a_repeated_filter_is_a_400(auditor_client):
    response = auditor_client.get("/api/v1/history/?model=product&model=category")
    assert response.status_code == 400 and "model" in response.json()["errors"]


@pytest.mark.parametrize("record_id", ["999999", "99999999999999999999999"])
def test_a_record_that_never_was_is_a_404(auditor_client, record_id):
    response = auditor_client.get(f"/api/v1/products/{record_id}/history/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
