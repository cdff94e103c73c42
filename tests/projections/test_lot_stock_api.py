"""Stock by lot over HTTP: the projection per product, location and lot, stock as of a moment of
one lot or of each, and the movements of a lot or of one split posting."""
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Lot, Tracking
from projections.services import projections_catch_up
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
BY_LOT = "/api/v1/stock/by-lot/"
AS_OF = "/api/v1/stock/as-of/"


@pytest.fixture
def milk(post, bins):
    """Three lots of milk at bins[0], one of them expired (received when it was not), then 5 of
    the two good ones moved to bins[1] first-expiring first: 4 of SOON, 1 of LATE."""
    milk = ProductFactory(sku="MILK-1L", tracking=Tracking.LOT)
    for code, days in (("OLD", 5), ("SOON", 3), ("LATE", 30)):
        post(kind="receipt", product=milk.pk, location=bins[0].pk, quantity="4", lot=code,
             expires_on=(TODAY + timedelta(days=days)).isoformat())
    Lot.objects.filter(code="OLD").update(expires_on=TODAY - timedelta(days=1))  # it has expired since
    post(kind="transfer", product=milk.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="5")
    projections_catch_up()
    return milk


def lines(client, **params):
    response = client.get(BY_LOT, params)
    assert response.status_code == 200, response.content
    return [(row["lot_code"], row["location_code"], row["quantity"]) for row in response.json()["results"]]


def test_stock_by_lot_lists_each_lot_at_each_location_first_expiring_first(auditor_client, milk, bins, product, post):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="9")  # untracked: not a lot line
    projections_catch_up()
    response = auditor_client.get(BY_LOT, {"product": milk.pk})
    first = response.json()["results"][0]
    assert first["sku"] == "MILK-1L" and first["expires_on"] == (TODAY - timedelta(days=1)).isoformat()
    assert first["expired"] is True
    here, there = bins[0].code, bins[1].code
    assert lines(auditor_client) == [
        ("OLD", here, "4.000"), ("SOON", there, "4.000"), ("LATE", here, "3.000"), ("LATE", there, "1.000"),
    ]


def test_stock_by_lot_filters(clerk_client, milk, bins):
    here, there = bins[0].code, bins[1].code
    assert lines(clerk_client, include_zero="true", location=bins[0].pk) == [
        ("OLD", here, "4.000"), ("SOON", here, "0.000"), ("LATE", here, "3.000"),
    ]
    assert lines(clerk_client, expired="true") == [("OLD", here, "4.000")]
    assert lines(clerk_client, expired="false", warehouse=bins[1].warehouse_id, location=bins[1].pk) == [
        ("SOON", there, "4.000"), ("LATE", there, "1.000"),
    ]
    assert lines(clerk_client, lot_code="LATE", expires_before=(TODAY + timedelta(days=31)).isoformat()) == [
        ("LATE", here, "3.000"), ("LATE", there, "1.000"),
    ]
    late = Lot.objects.get(code="LATE").pk
    assert lines(clerk_client, lot=late, location=bins[1].pk) == [("LATE", there, "1.000")]
    assert lines(clerk_client, expires_before=TODAY.isoformat()) == [("OLD", here, "4.000")]


@pytest.mark.parametrize("params", [{"expired": "maybe"}, {"lot": "x"}, {"expires_before": "soon"}, {"lot": "-1"}])
def test_stock_by_lot_refuses_bad_filters(clerk_client, params):
    response = clerk_client.get(BY_LOT, params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and set(response.json()["errors"]) == set(params)


def test_as_of_lists_each_lot_and_replays_one(auditor_client, milk, bins):
    codes = dict(Lot.objects.values_list("pk", "code"))
    every = auditor_client.get(AS_OF, {"product": milk.pk}).json()
    assert every["lot"] is None and every["quantity"] == "12.000"
    assert {(codes[line["lot"]], line["location"], line["quantity"]) for line in every["lots"]} == {
        ("OLD", bins[0].pk, "4.000"), ("SOON", bins[0].pk, "0.000"), ("SOON", bins[1].pk, "4.000"),
        ("LATE", bins[0].pk, "3.000"), ("LATE", bins[1].pk, "1.000"),
    }
    late = Lot.objects.get(code="LATE").pk
    before_the_transfer = every["position"] - 1
    one = auditor_client.get(AS_OF, {"product": milk.pk, "lot": late, "position": before_the_transfer}).json()
    assert (one["lot"], one["quantity"]) == (late, "4.000")
    assert [(b["location"], b["quantity"]) for b in one["balances"]] == [(bins[0].pk, "4.000")]
    now = auditor_client.get(AS_OF, {"product": milk.pk, "lot": late, "location": bins[1].pk, "movements": "true"}).json()
    assert now["quantity"] == "1.000" and [m["lot_code"] for m in now["movements"]] == ["LATE"]
    assert f"lot={late}" in now["movements_url"]
    listed = auditor_client.get(now["movements_url"]).json()["results"]
    assert [m["id"] for m in listed] == [m["id"] for m in now["movements"]]


def test_as_of_an_untracked_product_lists_no_lots(auditor_client, post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
    body = auditor_client.get(AS_OF, {"product": product.pk}).json()
    assert (body["quantity"], body["lots"]) == ("2.000", [])


def test_as_of_a_lot_of_another_product_is_not_found(auditor_client, milk, product):
    late = Lot.objects.get(code="LATE").pk
    response = auditor_client.get(AS_OF, {"product": product.pk, "lot": late})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and set(response.json()["errors"]) == {"lot"}


def test_movements_of_a_lot_and_of_one_split(auditor_client, milk):
    late = Lot.objects.get(code="LATE").pk
    of_late = auditor_client.get("/api/v1/movements/", {"lot": late}).json()["results"]
    assert [(m["kind"], m["quantity"]) for m in of_late] == [("receipt", "4.000"), ("transfer", "1.000")]
    split = of_late[1]["allocation"]
    of_split = auditor_client.get("/api/v1/movements/", {"allocation": split}).json()["results"]
    assert [(m["lot_code"], m["quantity"]) for m in of_split] == [("SOON", "4.000"), ("LATE", "1.000")]
