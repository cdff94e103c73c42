"""Movements dated in the past: checked against every balance from their date on, counts taken at
their own business time, reversals never before their original, recorded times in ledger order."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.errors import InsufficientStock, OnHandLimit, ReversalBeforeOriginal
from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.quantities import MAX_QUANTITY
from ledger.services import movement_post
from projections.selectors import stock_as_of

from .helpers import guard_quantity, ledger_sum

pytestmark = pytest.mark.django_db


def ago(hours: float) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def test_a_backdated_count_takes_its_difference_against_the_balance_at_its_own_time(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", occurred_at=ago(6))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="3", occurred_at=ago(2))
    count = post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="8", occurred_at=ago(4))

    assert (count.expected_quantity, count.delta, count.balance_after) == (10, -2, 5)
    assert guard_quantity(product, bins[0]) == ledger_sum(product, bins[0]) == 5
    as_of_count = timezone.now() - timedelta(hours=4) + timedelta(minutes=1)
    assert stock_as_of(product=product.pk, location=bins[0].pk, at=as_of_count).quantity == 8


def test_a_backdated_issue_that_would_make_history_negative_is_refused(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10")
    two_days_ago = ago(48)
    with pytest.raises(InsufficientStock) as refused:
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="5", occurred_at=two_days_ago)
    assert refused.value.extra["available"] == "0"
    assert refused.value.extra["requested"] == "5"
    assert refused.value.extra["at"] == two_days_ago
    assert Movement.objects.count() == 1 and guard_quantity(product, bins[0]) == 10


def test_a_backdated_issue_is_refused_where_a_later_balance_would_go_negative(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", occurred_at=ago(72))
    later = post(kind="issue", product=product.pk, location=bins[0].pk, quantity="6", occurred_at=ago(24))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="3", occurred_at=ago(48))  # 10, 7, 1: fine

    with pytest.raises(InsufficientStock) as refused:
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="2", occurred_at=ago(60))
    assert refused.value.extra["available"] == "1"
    assert refused.value.extra["at"] == later.occurred_at.isoformat()
    assert "as of" in refused.value.detail
    assert guard_quantity(product, bins[0]) == 1


def test_an_issue_dated_now_is_checked_against_todays_balance_only(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="4", occurred_at=ago(5))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="4")
    with pytest.raises(InsufficientStock) as refused:
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")
    assert "at" not in refused.value.extra


def test_a_backdated_transfer_needs_the_source_at_every_later_time_and_fills_the_destination(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5", occurred_at=ago(10))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="3", occurred_at=ago(2))
    with pytest.raises(InsufficientStock):
        post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="3", occurred_at=ago(5))
    moved = post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="2", occurred_at=ago(5))
    assert (moved.balance_after, moved.to_balance_after) == (0, 2)
    # The destination had the 2 units from five hours ago: an issue dated four hours ago may take them.
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="2", occurred_at=ago(4))
    assert guard_quantity(product, bins[1]) == 0


def test_a_batch_applies_its_backdated_items_in_order(post, product, bins):
    posted = post([
        {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5", "occurred_at": ago(3)},
        {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "5", "occurred_at": ago(1)},
        {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "2", "occurred_at": ago(4)},
        {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "2", "occurred_at": ago(2)},
    ])
    assert [p.movement.balance_after for p in posted] == [5, 0, 2, 0]
    with pytest.raises(InsufficientStock) as refused:
        post([
            {"kind": "receipt", "product": product.pk, "location": bins[1].pk, "quantity": "1", "occurred_at": ago(3)},
            {"kind": "issue", "product": product.pk, "location": bins[1].pk, "quantity": "1", "occurred_at": ago(4)},
        ])
    assert refused.value.extra["item"] == 1
    assert guard_quantity(product, bins[1]) == 0


def test_a_reversal_cannot_be_dated_before_its_original(post, clerk, product, bins):
    receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5", occurred_at=ago(2))
    with pytest.raises(ReversalBeforeOriginal) as refused:
        movement_post(user=clerk, movement=parse_reversal({"occurred_at": ago(3)}, movement_id=receipt.pk))
    assert (refused.value.status, refused.value.extra["movement"]) == (409, receipt.pk)
    assert "occurred_at" in refused.value.extra["errors"]
    reversal = movement_post(user=clerk, movement=parse_reversal({"occurred_at": ago(1)}, movement_id=receipt.pk)).movement
    assert reversal.delta == -5 and guard_quantity(product, bins[0]) == 0


def test_recorded_times_never_decrease_along_positions_even_when_a_clock_is_behind(post, product, bins, monkeypatch):
    first = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
    behind = first.recorded_at - timedelta(hours=1)
    monkeypatch.setattr("ledger.services.timezone.now", lambda: behind)
    single = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1", occurred_at=ago(3))
    batch = post([{"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1", "occurred_at": ago(3)}] * 2)
    recorded = list(Movement.objects.order_by("position").values_list("recorded_at", flat=True))
    assert recorded == sorted(recorded)
    assert single.recorded_at == first.recorded_at
    assert all(p.movement.recorded_at == first.recorded_at for p in batch)


def test_on_hand_may_not_pass_what_the_ledger_holds_exactly(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity=str(MAX_QUANTITY))
    with pytest.raises(OnHandLimit) as refused:
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="0.001")
    assert refused.value.status == 409 and refused.value.extra["limit"] == str(MAX_QUANTITY)
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="1")
    with pytest.raises(OnHandLimit):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
    assert guard_quantity(product, bins[0]) == MAX_QUANTITY - 1
    assert guard_quantity(product, bins[1]) == Decimal(1)


def test_a_backdated_batch_over_many_locations_reads_their_history_in_few_statements(post, product, warehouse):
    from ledger.store import HISTORY_KEYS
    from tests.factories import LocationFactory

    locations = [LocationFactory(warehouse=warehouse) for _ in range(HISTORY_KEYS + 5)]
    post([{"kind": "receipt", "product": product.pk, "location": l.pk, "quantity": "2", "occurred_at": ago(5)} for l in locations])
    post([{"kind": "issue", "product": product.pk, "location": l.pk, "quantity": "1", "occurred_at": ago(1)} for l in locations])
    with pytest.raises(InsufficientStock) as refused:
        post([{"kind": "issue", "product": product.pk, "location": l.pk, "quantity": "1", "occurred_at": ago(2)} for l in locations]
             + [{"kind": "issue", "product": product.pk, "location": locations[-1].pk, "quantity": "1", "occurred_at": ago(3)}])
    assert refused.value.extra["item"] == len(locations)
    posted = post([{"kind": "issue", "product": product.pk, "location": l.pk, "quantity": "1", "occurred_at": ago(2)} for l in locations])
    assert all(p.movement.balance_after == 0 for p in posted)
