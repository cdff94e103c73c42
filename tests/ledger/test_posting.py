"""The posting service: what each kind does to stock, and the rules it refuses to break."""
from decimal import Decimal

import pytest

from ledger.errors import (
    AlreadyReversed,
    IdempotencyKeyReused,
    InactiveLocation,
    InactiveProduct,
    InsufficientStock,
    MovementInvalid,
    RecordNotFound,
    ReversalNotAllowed,
    Shortage,
)
from ledger.models import LedgerHead, Movement
from ledger.parsing import parse_reversal
from ledger.services import movement_post

from .helpers import guard_quantity, ledger_sum

pytestmark = pytest.mark.django_db


def reverse(user, movement, **fields):
    return movement_post(user=user, movement=parse_reversal(fields, movement_id=movement.pk)).movement


def test_receipt_adds_stock_and_reports_the_balance(post, product, bins):
    movement = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10.5", unit_cost="2.40")
    assert movement.position == 1
    assert movement.delta == Decimal("10.5")
    assert (movement.balance_after, movement.to_balance_after) == (Decimal("10.5"), None)
    assert guard_quantity(product, bins[0]) == Decimal("10.5")


def test_issue_takes_stock_out(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10")
    movement = post(kind="issue", product=product.pk, location=bins[0].pk, quantity="4")
    assert movement.delta == Decimal("-4")
    assert movement.balance_after == Decimal("6")


def test_transfer_is_one_event_with_both_legs(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10")
    movement = post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="3")
    assert Movement.objects.filter(kind="transfer").count() == 1
    assert (movement.location_id, movement.to_location_id, movement.delta) == (bins[0].pk, bins[1].pk, Decimal(-3))
    assert (movement.balance_after, movement.to_balance_after) == (7, 3)
    assert ledger_sum(product, bins[0]) == 7 and ledger_sum(product, bins[1]) == 3


def test_count_records_counted_expected_and_the_difference(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10")
    short = post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="8")
    assert (short.counted_quantity, short.expected_quantity, short.delta) == (8, 10, -2)
    assert short.quantity == 2
    over = post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="8.5")
    assert (over.expected_quantity, over.delta, over.balance_after) == (8, Decimal("0.5"), Decimal("8.5"))
    assert guard_quantity(product, bins[0]) == Decimal("8.5")


def test_count_that_confirms_stock_is_recorded_with_no_change(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")
    confirmed = post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="3")
    assert confirmed.delta == 0 and confirmed.expected_quantity == 3


def test_issue_beyond_available_is_refused_with_the_numbers(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")
    with pytest.raises(InsufficientStock) as refused:
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="5")
    assert refused.value.shortages == [Shortage(
        product=product.pk, sku="BOLT-M8", location=bins[0].pk, label="MAIN/A-01", available=Decimal(3), requested=Decimal(5),
    )]
    assert refused.value.detail == "Only 3 on hand of BOLT-M8 at MAIN/A-01; 5 requested."
    assert Movement.objects.count() == 1
    assert guard_quantity(product, bins[0]) == 3


def test_issue_from_an_empty_location_is_refused(post, product, bins):
    with pytest.raises(InsufficientStock):
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")
    assert not Movement.objects.exists()


def test_transfer_beyond_available_is_refused(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
    with pytest.raises(InsufficientStock):
        post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="3")
    assert guard_quantity(product, bins[1]) == 0


def test_positions_are_gap_free_and_the_head_follows(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
    with pytest.raises(InsufficientStock):
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="5")
    last = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
    assert list(Movement.objects.values_list("position", flat=True)) == [1, 2]
    head = LedgerHead.objects.get()
    assert (head.position, head.hash) == (2, last.hash)


class TestIdempotency:
    def test_retry_with_the_same_key_returns_the_original_and_posts_nothing(self, post, clerk, product, bins):
        body = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5"}
        first = post(key="scan-1", **body)
        again = post(key="scan-1", **body)
        assert again.pk == first.pk
        assert Movement.objects.count() == 1
        assert guard_quantity(product, bins[0]) == 5

    def test_retry_of_an_issue_that_took_the_last_units_gets_the_original(self, post, product, bins):
        """The retry would be short of stock now, because its own original took the stock."""
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")
        body = {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "3"}
        first = post(key="scan-9", **body)
        assert post(key="scan-9", **body).pk == first.pk
        assert guard_quantity(product, bins[0]) == 0

    def test_a_new_key_short_of_stock_is_still_refused(self, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")
        body = {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "3"}
        post(key="scan-9", **body)
        with pytest.raises(InsufficientStock):
            post(key="scan-10", **body)

    def test_same_key_with_another_body_is_refused(self, post, product, bins):
        post(key="scan-1", kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        with pytest.raises(IdempotencyKeyReused):
            post(key="scan-1", kind="receipt", product=product.pk, location=bins[0].pk, quantity="6")
        assert Movement.objects.count() == 1

    def test_keys_are_scoped_to_the_user(self, post, product, bins):
        from tests.factories import UserFactory

        other_clerk = UserFactory(roles=["clerk"])
        body = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5"}
        post(key="scan-1", **body)
        post(key="scan-1", user=other_clerk, **body)
        assert Movement.objects.count() == 2

    def test_movements_without_a_key_are_each_posted(self, post, product, bins):
        body = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5"}
        post(**body)
        post(**body)
        assert Movement.objects.count() == 2
        assert all(k.startswith("auto-") for k in Movement.objects.values_list("idempotency_key", flat=True))


class TestReversal:
    def test_reversal_undoes_a_receipt_and_points_at_it(self, post, clerk, product, bins):
        receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        reversal = reverse(clerk, receipt, reason="wrong product scanned")
        assert (reversal.kind, reversal.reverses_id, reversal.delta) == ("reversal", receipt.pk, -5)
        assert guard_quantity(product, bins[0]) == 0
        assert Movement.objects.get(pk=receipt.pk).reversed_by == reversal

    def test_reversal_of_a_transfer_moves_the_stock_back(self, post, clerk, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        transfer = post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="2")
        reversal = reverse(clerk, transfer)
        assert (reversal.location_id, reversal.to_location_id, reversal.delta) == (bins[0].pk, bins[1].pk, 2)
        assert (reversal.balance_after, reversal.to_balance_after) == (5, 0)

    def test_reversal_of_a_count_restores_the_expected_quantity(self, post, clerk, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        count = post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="2")
        reverse(clerk, count)
        assert guard_quantity(product, bins[0]) == 5

    def test_an_event_is_reversed_at_most_once(self, post, clerk, product, bins):
        receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        reverse(clerk, receipt)
        with pytest.raises(AlreadyReversed):
            reverse(clerk, receipt)
        assert guard_quantity(product, bins[0]) == 0

    def test_a_reversal_cannot_be_reversed(self, post, clerk, product, bins):
        receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        reversal = reverse(clerk, receipt)
        with pytest.raises(ReversalNotAllowed):
            reverse(clerk, reversal)

    def test_reversal_obeys_the_stock_rule(self, post, clerk, product, bins):
        receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="4")
        with pytest.raises(InsufficientStock):
            reverse(clerk, receipt)
        assert guard_quantity(product, bins[0]) == 1
        assert not Movement.objects.filter(kind="reversal").exists()

    def test_reversal_of_an_unknown_movement_is_not_found(self, clerk, db):
        with pytest.raises(RecordNotFound) as refused:
            movement_post(user=clerk, movement=parse_reversal({}, movement_id=999))
        assert refused.value.as_dict()["errors"] == {"reverses": [RecordNotFound.NO_MOVEMENT.format(movement=999)]}

    def test_corrections_stay_possible_after_deactivation(self, post, clerk, product, bins):
        receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        product.is_active = False
        product.save()
        reverse(clerk, receipt)
        assert guard_quantity(product, bins[0]) == 0


class TestCatalogRules:
    def test_inactive_product_takes_no_movements(self, post, product, bins):
        product.is_active = False
        product.save()
        with pytest.raises(InactiveProduct):
            post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")

    def test_inactive_location_takes_no_movements(self, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        bins[1].is_active = False
        bins[1].save()
        with pytest.raises(InactiveLocation):
            post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="1")
        assert guard_quantity(product, bins[0]) == 5

    def test_unknown_product_and_location_are_not_found_and_named(self, post, product, bins):
        with pytest.raises(RecordNotFound) as refused:
            post(kind="receipt", product=424242, location=bins[0].pk, quantity="1")
        assert refused.value.extra["errors"] == {"product": [RecordNotFound.NO_PRODUCT.format(product=424242)]}
        with pytest.raises(RecordNotFound) as refused:
            post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=424242, quantity="1")
        assert "to_location" in refused.value.extra["errors"]


class TestBatch:
    def test_batch_is_applied_in_order(self, post, product, bins):
        posted = post([
            {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5"},
            {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "5"},
        ])
        assert [p.movement.position for p in posted] == [1, 2]
        assert guard_quantity(product, bins[0]) == 0

    def test_batch_is_all_or_nothing_and_names_the_failing_item(self, post, product, bins):
        with pytest.raises(InsufficientStock) as refused:
            post([
                {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5"},
                {"kind": "issue", "product": product.pk, "location": bins[1].pk, "quantity": "1"},
                {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "9"},
            ])
        assert refused.value.extra["item"] == 1
        assert [s["item"] for s in refused.value.extra["shortages"]] == [1, 2]
        assert not Movement.objects.exists()
        assert guard_quantity(product, bins[0]) == 0
        assert LedgerHead.objects.get().position == 0

    def test_duplicate_keys_in_one_batch_are_refused(self, post, product, bins):
        item = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5", "idempotency_key": "x"}
        with pytest.raises(MovementInvalid) as refused:
            post([item, item])
        assert refused.value.extra["item"] == 1

    def test_retried_batch_posts_nothing_twice(self, post, product, bins):
        items = [
            {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "5", "idempotency_key": "l1"},
            {"kind": "receipt", "product": product.pk, "location": bins[1].pk, "quantity": "5", "idempotency_key": "l2"},
        ]
        post(items[:1])
        posted = post(items)
        assert [p.replayed for p in posted] == [True, False]
        assert Movement.objects.count() == 2


def test_a_large_batch_keeps_every_character_and_the_chain(post, product, bins):
    """Large batches take the bulk insert path (COPY on PostgreSQL): text with tabs, newlines and
    backslashes must arrive unchanged, and the chain must verify."""
    from ledger.store import COPY_FROM
    from ledger.verification import ledger_verify

    awkward = "line one\r\nline\ttwo \\ end\nlast"
    items = [
        {"kind": "receipt", "product": product.pk, "location": bins[i % 3].pk, "quantity": "1.5", "reason": awkward, "reference": f"R\\{i}"}
        for i in range(COPY_FROM + 10)
    ]
    posted = post(items)
    assert [p.movement.position for p in posted] == list(range(1, COPY_FROM + 11))
    stored = Movement.objects.get(position=7)
    assert (stored.reason, stored.reference) == (awkward, "R\\6")
    assert ledger_verify().intact


def test_a_posting_over_more_guard_rows_than_one_statement_takes_locks_and_writes_them_all(post, product, bins, monkeypatch):
    """Statements are cut to what SQLite accepts (32,766 parameters); the cut must lose nothing."""
    monkeypatch.setattr("ledger.store.GUARD_ROWS", 2)
    monkeypatch.setattr("catalog.selectors.IDS_PER_QUERY", 2)
    posted = post([{"kind": "receipt", "product": product.pk, "location": b.pk, "quantity": "3"} for b in bins]
                  + [{"kind": "transfer", "product": product.pk, "from_location": bins[0].pk, "to_location": bins[2].pk, "quantity": "1"}])
    assert [p.movement.to_balance_after or p.movement.balance_after for p in posted] == [3, 3, 3, 4]
    assert [guard_quantity(product, b) for b in bins] == [2, 3, 4]
