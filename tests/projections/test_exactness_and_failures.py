"""Projections are exact on both databases across the accepted domain, and one that fails holds
back none of the others and says why in /stock/status/."""
from decimal import Decimal

import pytest
from django.db import connection

from ledger.quantities import MAX_QUANTITY, MAX_UNIT_COST
from projections import definitions, services
from projections.definitions import PRODUCT_LOCATION, Projection
from projections.models import Checkpoint, ProductLocationStock, ProductStock
from projections.selectors import projections_verify, stock_as_of
from projections.services import projections_catch_up, projections_rebuild
from tests.replay import replay_in_python, stored

pytestmark = pytest.mark.django_db


def test_ten_tenths_less_one_leave_exactly_nothing(post, product, bins):
    for _ in range(10):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="0.1", unit_cost="0.1")
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")
    projections_catch_up()
    assert not ProductLocationStock.objects.exclude(quantity=0).exists()
    assert ProductStock.objects.get(product=product).quantity == 0
    assert ProductStock.objects.get(product=product).received_value == Decimal("0.1")
    assert stock_as_of(product=product.pk, location=bins[0].pk, position=11).quantity == 0
    assert all(not v.differences for v in projections_verify())


def test_totals_are_the_same_however_the_range_is_cut(post, product, bins):
    for cost in ("0.3333", "0.6667", "1.0001"):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="0.333", unit_cost=cost)
    for projection in definitions.PROJECTIONS:
        services.projection_catch_up(projection, chunk=1)
    by_chunks = stored()
    projections_rebuild()
    assert stored() == by_chunks == replay_in_python()
    assert all(not v.differences for v in projections_verify())


def test_the_largest_movements_fit_every_projection_or_stop_one_with_its_reason(post, product, bins, auditor_client):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity=str(MAX_QUANTITY), unit_cost=str(MAX_UNIT_COST))
    post(kind="receipt", product=product.pk, location=bins[1].pk, quantity=str(MAX_QUANTITY))
    results = projections_catch_up()
    status = {row["name"]: row for row in auditor_client.get("/api/v1/stock/status/").json()}
    assert results["stock_by_product_location"] == 2 and results["stock_by_location"] == 2
    assert status["stock_by_product_location"]["lag_events"] == 0 and status["stock_by_location"]["lag_events"] == 0
    if connection.vendor == "postgresql":  # exact to 10^34: everything fits
        assert results["stock_by_product"] == 2 and status["stock_by_product"]["error"] == ""
        assert ProductStock.objects.get(product=product).quantity == 2 * MAX_QUANTITY
        assert all(not v.differences for v in projections_verify())
    else:  # SQLite keeps 15 significant digits: a product total past them stops with its reason
        assert status["stock_by_product"]["lag_events"] == 2
        assert "significant digits" in status["stock_by_product"]["error"]
        assert status["stock_by_product"]["failed_at"] is not None


def test_a_failing_projection_holds_back_none_of_the_others(post, product, bins, monkeypatch, auditor_client):
    broken = Projection(
        name="broken", model=ProductLocationStock, keys=PRODUCT_LOCATION.keys, values=PRODUCT_LOCATION.values,
        query=lambda arithmetic: "SELECT no_such_column FROM ledger_movement m WHERE m.position > %(after)s AND m.position <= %(upto)s",
    )
    Checkpoint.objects.create(name="broken")
    monkeypatch.setattr(services, "PROJECTIONS", (broken, *definitions.PROJECTIONS))
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")

    results = projections_catch_up()
    assert results["broken"].startswith("failed")
    assert {results[p.name] for p in definitions.PROJECTIONS} == {1}
    status = {row["name"]: row for row in auditor_client.get("/api/v1/stock/status/").json()}
    assert "no_such_column" in status["broken"]["error"] and status["broken"]["lag_events"] == 1
    assert status["stock_by_product_location"]["error"] == ""

    monkeypatch.setattr(services, "PROJECTIONS", definitions.PROJECTIONS)
    Checkpoint.objects.filter(name="broken").delete()
    assert stored() == replay_in_python()
