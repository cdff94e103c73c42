"""Demand history from the ledger: issues net of their reversals, by day and week, per warehouse
or location; transfers, counts and receipts are not demand."""
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from forecasts import selectors
from forecasts.periods import DAY, WEEK

from .conftest import CUTOFF, at

BEFORE = datetime.combine(CUTOFF, time.min, tzinfo=timezone.utc)
MONDAY = CUTOFF - timedelta(weeks=3)


def _stock(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="100", occurred_at=at(MONDAY, 6))


def test_issues_add_up_by_week_and_by_day(post, product, bins, warehouse):
    _stock(post, product, bins)
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="4", occurred_at=at(MONDAY))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="6", occurred_at=at(MONDAY + timedelta(days=6)))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="5", occurred_at=at(MONDAY + timedelta(days=7)))
    weekly = selectors.demand(before=BEFORE, period=WEEK)
    assert weekly == {(product.pk, warehouse.pk): {MONDAY: Decimal("10"), MONDAY + timedelta(weeks=1): Decimal("5")}}
    daily = selectors.demand(before=BEFORE, period=DAY)[product.pk, warehouse.pk]
    assert daily == {MONDAY: 4, MONDAY + timedelta(days=6): 6, MONDAY + timedelta(days=7): 5}


def test_a_reversed_issue_is_no_demand_in_the_week_it_was_issued(post, product, bins, warehouse):
    from ledger.parsing import parse_reversal
    from ledger.services import movement_post

    _stock(post, product, bins)
    kept = post(kind="issue", product=product.pk, location=bins[0].pk, quantity="3", occurred_at=at(MONDAY))
    wrong = post(kind="issue", product=product.pk, location=bins[0].pk, quantity="50", occurred_at=at(MONDAY))
    movement_post(user=kept.user, movement=parse_reversal(
        {"occurred_at": at(MONDAY + timedelta(weeks=2)), "reason": "keyed twice"}, movement_id=wrong.pk))
    assert selectors.demand(before=BEFORE, period=WEEK) == {(product.pk, warehouse.pk): {MONDAY: Decimal("3")}}


def test_transfers_counts_and_receipts_are_not_demand(post, product, bins):
    _stock(post, product, bins)
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="30",
         occurred_at=at(MONDAY))
    post(kind="count", product=product.pk, location=bins[1].pk, counted_quantity="20", occurred_at=at(MONDAY))
    assert selectors.demand(before=BEFORE, period=WEEK) == {}


def test_per_location_and_nothing_after_the_cut(post, product, bins):
    _stock(post, product, bins)
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="30",
         occurred_at=at(MONDAY))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="7", occurred_at=at(MONDAY))
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="2", occurred_at=at(MONDAY))
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="9", occurred_at=at(CUTOFF))
    assert selectors.demand(before=BEFORE, period=WEEK, per_location=True) == {
        (product.pk, bins[0].pk): {MONDAY: 7}, (product.pk, bins[1].pk): {MONDAY: 2},
    }


def test_stock_change_nets_transfers_within_a_warehouse(post, product, bins, warehouse):
    from tests.factories import LocationFactory, WarehouseFactory

    elsewhere = LocationFactory(warehouse=WarehouseFactory(code="EAST"), code="E-01")
    _stock(post, product, bins)
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="30",
         occurred_at=at(MONDAY))
    post(kind="transfer", product=product.pk, from_location=bins[1].pk, to_location=elsewhere.pk, quantity="10",
         occurred_at=at(MONDAY + timedelta(weeks=1)))
    change = selectors.weekly_stock_change(before=BEFORE)
    assert change[product.pk, warehouse.pk] == {MONDAY: 100, MONDAY + timedelta(weeks=1): -10}
    assert change[product.pk, elsewhere.warehouse_id] == {MONDAY + timedelta(weeks=1): 10}
    assert selectors.first_movements(before=BEFORE)[product.pk, elsewhere.warehouse_id].date() == MONDAY + timedelta(weeks=1)
