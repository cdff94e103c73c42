"""The valuation over HTTP, in admin and in the products API: who may read it, what it answers,
and a 4xx in the one error shape for what a client gets wrong."""
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from valuation.services import valuation_catch_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def valued(post, product, bins, manager_client):
    """Receipts of 10 @ 2 and 10 @ 4, an issue of 5, by FIFO: 15 left worth 5 x 2 + 10 x 4 = 50."""
    assert manager_client.patch(f"/api/v1/products/{product.pk}/", {"valuation_method": "fifo"}, format="json").status_code == 200
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", unit_cost="2.00", occurred_at="2026-05-01T08:00:00Z")
    post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="10", unit_cost="4.00", occurred_at="2026-05-02T08:00:00Z")
    issue = post(kind="issue", product=product.pk, location=bins[1].pk, quantity="5", occurred_at="2026-05-03T08:00:00Z")
    valuation_catch_up()
    return issue


@pytest.mark.parametrize("role", ["finance_client", "manager_client"])
def test_finance_and_managers_read_the_valuation(request, role, valued, product):
    client = request.getfixturevalue(role)
    body = client.get("/api/v1/valuation/").json()
    assert body["lines"] == [{"product": product.pk, "sku": "BOLT-M8", "name": product.name, "category": product.category_id,
                              "category_name": product.category.name if product.category else None,
                              "quantity": "15.000", "value": "50.0000"}]
    assert (body["quantity"], body["value"], body["position"]) == ("15.000", "50.0000", 3)


def test_clerks_may_not_and_strangers_must_sign_in(clerk_client, anonymous_client, valued):
    assert clerk_client.get("/api/v1/valuation/").json()["code"] == "permission_denied"
    assert anonymous_client.get("/api/v1/valuation/").status_code == 401


def test_as_of_a_date_is_the_end_of_that_day_and_a_position_what_the_ledger_said_then(finance_client, valued):
    # the end of 1 May: the first receipt alone, 10 @ 2
    assert finance_client.get("/api/v1/valuation/?as_of=2026-05-01").json()["value"] == "20.0000"
    assert finance_client.get("/api/v1/valuation/?as_of=2026-05-02T08:00:00Z").json()["value"] == "60.0000"
    assert finance_client.get("/api/v1/valuation/?position=2&group_by=warehouse").json()["lines"][0]["value"] == "60.0000"
    # by location: the issue left A-01 10 of 15 (10/15 x 50 = 33.3333) and A-02 5 (16.6667)
    lines = finance_client.get("/api/v1/valuation/?group_by=location").json()["lines"]
    assert [(l["location_code"], l["quantity"], l["value"]) for l in lines] == [("A-01", "10.000", "33.3333"), ("A-02", "5.000", "16.6667")]


@pytest.mark.parametrize("group_by, fields", [
    ("product", {"product", "sku", "name", "category", "category_name"}), ("category", {"category", "category_name"}),
    ("warehouse", {"warehouse", "warehouse_code", "warehouse_name"}), ("location", {"location", "location_code", "warehouse", "warehouse_code"}),
])
def test_a_line_names_its_own_group_alone(finance_client, valued, group_by, fields):
    for line in finance_client.get(f"/api/v1/valuation/?group_by={group_by}").json()["lines"]:
        assert set(line) == fields | {"quantity", "value"}


@pytest.mark.parametrize("query, field", [
    ("group_by=shelf", "group_by"), ("as_of=yesterday", "as_of"), ("as_of=2026-05-01T10:00:00", "as_of"),
    ("position=-1", "position"), ("product=0", "product"), ("product=", "product"), ("group_by=product&group_by=warehouse", "group_by"),
])
def test_bad_parameters_are_a_400_naming_them(finance_client, query, field):
    response = finance_client.get(f"/api/v1/valuation/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and field in response.json()["errors"]


@pytest.mark.parametrize("name", ["product", "warehouse", "category"])
def test_a_record_not_there_is_a_404_naming_it(finance_client, name):
    response = finance_client.get(f"/api/v1/valuation/?{name}=999999")
    assert (response.status_code, response.json()["code"], list(response.json()["errors"])) == (404, "not_found", [name])


def test_a_products_cost_layers(finance_client, valued, product):
    body = finance_client.get(f"/api/v1/products/{product.pk}/cost-layers/").json()
    assert (body["method"], body["valued_method"], body["quantity"], body["value"], body["last_cost"]) == ("fifo", "fifo", "15.000", "50.0000", "4.0000")
    assert [(l["seq"], l["quantity"], l["value"]) for l in body["layers"]] == [(1, "5.000", "10.0000"), (2, "10.000", "40.0000")]  # the issue took 5 of the oldest
    assert finance_client.get("/api/v1/products/999999/cost-layers/").status_code == 404


def test_the_cost_entries_say_each_issues_cogs(finance_client, valued, product):
    body = finance_client.get(f"/api/v1/valuation/entries/?movement={valued.pk}").json()
    assert [(e["flow"], e["quantity"], e["value"], e["cogs"]) for e in body["results"]] == [("issue", "-5.000", "-10.0000", "10.0000")]
    assert finance_client.get("/api/v1/valuation/entries/?flow=shelf").status_code == 400
    status = finance_client.get("/api/v1/valuation/status/").json()
    assert (status["position"], status["head"], status["behind"]) == (3, 3, 0)


def test_a_change_of_method_revalues_the_whole_history(finance_client, manager_client, valued, product):
    assert manager_client.get(f"/api/v1/products/{product.pk}/").json()["valuation_method"] == "fifo"
    assert manager_client.patch(f"/api/v1/products/{product.pk}/", {"valuation_method": "average"}, format="json").status_code == 200
    valuation_catch_up()
    # average: 20 units worth 60, the issue of 5 takes 60 x 5 / 20 = 15: 45 left
    assert finance_client.get("/api/v1/valuation/").json()["value"] == "45.0000"
    assert manager_client.patch(f"/api/v1/products/{product.pk}/", {"valuation_method": "lifo"}, format="json").status_code == 400


def test_a_new_product_takes_the_settings_method(manager_client, settings):
    settings.VALUATION_METHOD = "fifo"
    body = manager_client.post("/api/v1/products/", {"sku": "NEW-1", "name": "New"}, format="json").json()
    assert body["valuation_method"] == "fifo"


def test_admin_shows_a_products_value_and_layers(valued, product, manager):
    manager.is_staff = True
    manager.save()
    client = Client()
    client.force_login(manager)
    page = client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert "Value and cost layers" in page and "50.0000" in page and "FIFO" in page
    assert "valuation_method" in page  # the method is a field of the form


def test_the_roles_grant_reading_the_valuation(finance, manager, clerk, auditor):
    assert finance.has_perm("valuation.view_costentry") and manager.has_perm("valuation.view_costlayer")
    assert not clerk.has_perm("valuation.view_costentry")
    assert Permission.objects.filter(codename="view_productvaluation", group__name="finance").exists()
