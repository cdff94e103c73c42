"""Lots on the posting path: receipts make lots, issues take the first-expiring (FEFO), splits are
one posting of linked events that reverse together, expired lots stay put unless a reason is given."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Lot, Tracking
from ledger import verification
from ledger.errors import InsufficientStock, LotDatesDiffer, MovementInvalid, RecordNotFound
from ledger.models import Movement, StockLevel
from ledger.parsing import parse_reversal
from ledger.services import movement_post
from projections.models import LotStock, ProductLocationStock
from projections.services import projections_catch_up
from tests.factories import ProductFactory

MOVEMENTS = "/api/v1/movements/"
TODAY = timezone.localdate()


@pytest.fixture
def milk(db):
    return ProductFactory(sku="MILK-1L", tracking=Tracking.LOT)


def receive(post, product, location, quantity, lot, expires_on=None, **fields):
    body = {"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": str(quantity), "lot": lot}
    if expires_on is not None:
        body["expires_on"] = expires_on.isoformat()
    return post(**body, **fields)


def issue_body(product, location, quantity, **fields):
    return {"kind": "issue", "product": product.pk, "location": location.pk, "quantity": str(quantity), **fields}


def lot_stock(product, location) -> dict[str, Decimal]:
    rows = StockLevel.objects.filter(product=product, location=location, lot__isnull=False).select_related("lot")
    return {row.lot.code: row.quantity for row in rows}


class TestReceipts:
    def test_a_receipt_makes_its_lot_with_its_dates(self, post, milk, bins):
        event = receive(post, milk, bins[0], 10, "L-1", TODAY + timedelta(days=9), manufactured_on=TODAY.isoformat())
        lot = Lot.objects.get(product=milk, code="L-1")
        assert (lot.expires_on, lot.manufactured_on, event.lot_id) == (TODAY + timedelta(days=9), TODAY, lot.pk)
        assert lot_stock(milk, bins[0]) == {"L-1": Decimal(10)}

    def test_a_second_receipt_of_a_lot_adds_to_it(self, post, milk, bins):
        receive(post, milk, bins[0], 10, "L-1", TODAY + timedelta(days=9))
        receive(post, milk, bins[0], 5, "L-1")
        assert Lot.objects.filter(product=milk).count() == 1
        assert lot_stock(milk, bins[0]) == {"L-1": Decimal(15)}

    def test_other_dates_for_a_known_lot_are_refused(self, post, milk, bins):
        receive(post, milk, bins[0], 10, "L-1", TODAY + timedelta(days=9))
        with pytest.raises(LotDatesDiffer):
            receive(post, milk, bins[0], 5, "L-1", TODAY + timedelta(days=30))
        assert Movement.objects.count() == 1

    def test_a_tracked_product_needs_its_lot_and_an_untracked_one_refuses_one(self, post, milk, product, bins):
        with pytest.raises(MovementInvalid) as missing:
            post(kind="receipt", product=milk.pk, location=bins[0].pk, quantity="1")
        with pytest.raises(MovementInvalid) as misplaced:
            receive(post, product, bins[0], 1, "L-1")
        assert set(missing.value.extra["errors"]) == {"lot"} and set(misplaced.value.extra["errors"]) == {"lot"}
        assert not Lot.objects.exists() and not Movement.objects.exists()

    def test_a_refused_posting_leaves_no_lot_behind(self, post, milk, bins):
        with pytest.raises(InsufficientStock):
            post([
                {"kind": "receipt", "product": milk.pk, "location": bins[0].pk, "quantity": "1", "lot": "NEW"},
                issue_body(milk, bins[0], 5),
            ])
        assert not Lot.objects.exists()


class TestFefo:
    def test_issue_takes_the_first_expiring_then_the_first_received(self, post, clerk, milk, bins):
        receive(post, milk, bins[0], 5, "LATE", TODAY + timedelta(days=30))
        receive(post, milk, bins[0], 5, "SOON-B", TODAY + timedelta(days=3))
        receive(post, milk, bins[0], 5, "NONE")  # no expiry: last
        receive(post, milk, bins[0], 5, "SOON-A", TODAY + timedelta(days=3))  # same expiry, received after SOON-B
        posted = movement_post(user=clerk, movement=_issue(milk, bins[0], 7))
        assert [(e.lot.code, e.quantity) for e in posted.allocated] == [("SOON-B", 5), ("SOON-A", 2)]
        assert lot_stock(milk, bins[0]) == {"LATE": 5, "SOON-B": 0, "NONE": 5, "SOON-A": 3}

    def test_a_split_across_three_lots_is_one_posting_of_linked_events(self, clerk_client, post, milk, bins):
        for day, code in ((1, "A"), (2, "B"), (3, "C")):
            receive(post, milk, bins[0], 4, code, TODAY + timedelta(days=day))
        response = clerk_client.post(MOVEMENTS, issue_body(milk, bins[0], 10, reference="SO-1"), format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        allocated = body["allocated"]
        assert [(e["lot_code"], e["quantity"]) for e in allocated] == [("A", "4.000"), ("B", "4.000"), ("C", "2.000")]
        assert body["id"] == allocated[0]["id"] and {e["allocation"] for e in allocated} == {allocated[0]["id"]}
        assert [e["position"] for e in allocated] == list(range(allocated[0]["position"], allocated[0]["position"] + 3))
        assert Movement.objects.filter(allocation_id=body["id"]).count() == 3

    def test_a_retried_split_replays_every_event(self, clerk_client, post, milk, bins):
        receive(post, milk, bins[0], 4, "A", TODAY + timedelta(days=1))
        receive(post, milk, bins[0], 4, "B", TODAY + timedelta(days=2))
        first = clerk_client.post(MOVEMENTS, issue_body(milk, bins[0], 6), format="json", HTTP_IDEMPOTENCY_KEY="k-6")
        again = clerk_client.post(MOVEMENTS, issue_body(milk, bins[0], 6), format="json", HTTP_IDEMPOTENCY_KEY="k-6")
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json() and len(again.json()["allocated"]) == 2
        assert Movement.objects.count() == 4

    def test_reversing_any_event_of_a_split_reverses_them_all(self, clerk_client, post, milk, bins):
        for day, code in ((1, "A"), (2, "B"), (3, "C")):
            receive(post, milk, bins[0], 4, code, TODAY + timedelta(days=day))
        allocated = clerk_client.post(MOVEMENTS, issue_body(milk, bins[0], 10), format="json").json()["allocated"]
        reversal = clerk_client.post(f"{MOVEMENTS}{allocated[1]['id']}/reverse/", {"reason": "wrong order"}, format="json")
        assert reversal.status_code == 201, reversal.json()
        reversed_events = reversal.json()["allocated"]
        assert sorted(e["reverses"] for e in reversed_events) == sorted(e["id"] for e in allocated)
        assert {e["allocation"] for e in reversed_events} == {reversed_events[0]["id"]}
        assert lot_stock(milk, bins[0]) == {"A": 4, "B": 4, "C": 4}
        again = clerk_client.post(f"{MOVEMENTS}{allocated[2]['id']}/reverse/", {}, format="json")
        assert (again.status_code, again.json()["code"]) == (409, "already_reversed")

    def test_a_reversal_of_a_split_that_cannot_be_made_whole_reverses_none(self, post, clerk, milk, bins):
        receive(post, milk, bins[0], 4, "A", TODAY + timedelta(days=1))
        receive(post, milk, bins[0], 4, "B", TODAY + timedelta(days=2))
        split = movement_post(user=clerk, movement=_issue(milk, bins[0], 6, kind="transfer", to=bins[1]))
        assert len(split.allocated) == 2
        post(kind="issue", product=milk.pk, location=bins[1].pk, quantity="2", lot="B")  # B's 2 at bins[1] are gone
        with pytest.raises(InsufficientStock):
            movement_post(user=clerk, movement=parse_reversal({}, movement_id=split.allocated[0].pk))
        assert not Movement.objects.filter(kind="reversal").exists()
        assert lot_stock(milk, bins[1]) == {"A": 4, "B": 0}

    def test_a_transfer_moves_the_lots_it_takes(self, post, clerk, milk, bins):
        receive(post, milk, bins[0], 3, "A", TODAY + timedelta(days=1))
        receive(post, milk, bins[0], 3, "B", TODAY + timedelta(days=2))
        movement_post(user=clerk, movement=_issue(milk, bins[0], 5, kind="transfer", to=bins[1]))
        assert lot_stock(milk, bins[0]) == {"A": 0, "B": 1}
        assert lot_stock(milk, bins[1]) == {"A": 3, "B": 2}

    def test_what_the_lots_cannot_cover_is_refused_whole(self, post, clerk, milk, bins):
        receive(post, milk, bins[0], 3, "A", TODAY + timedelta(days=1))
        receive(post, milk, bins[0], 3, "OLD", TODAY - timedelta(days=1))
        with pytest.raises(InsufficientStock) as refused:
            movement_post(user=clerk, movement=_issue(milk, bins[0], 4))
        shortage = refused.value.shortages[0]
        assert (shortage.available, shortage.requested) == (3, 4)
        assert "in lots not expired" in refused.value.message
        assert lot_stock(milk, bins[0]) == {"A": 3, "OLD": 3}


class TestExpired:
    def test_an_expired_lot_is_never_allocated(self, post, clerk, milk, bins):
        receive(post, milk, bins[0], 5, "OLD", TODAY - timedelta(days=1))
        receive(post, milk, bins[0], 5, "NEW", TODAY + timedelta(days=5))
        posted = movement_post(user=clerk, movement=_issue(milk, bins[0], 5))
        assert posted.movement.lot.code == "NEW" and not posted.allocated

    def test_a_lot_is_usable_on_its_expiry_date(self, post, clerk, milk, bins):
        receive(post, milk, bins[0], 5, "TODAY", TODAY)
        assert movement_post(user=clerk, movement=_issue(milk, bins[0], 1)).movement.lot.code == "TODAY"

    def test_naming_an_expired_lot_is_refused_without_a_reason(self, clerk_client, post, milk, bins):
        receive(post, milk, bins[0], 5, "OLD", TODAY - timedelta(days=1))
        refused = clerk_client.post(MOVEMENTS, issue_body(milk, bins[0], 5, lot="OLD"), format="json")
        assert (refused.status_code, refused.json()["code"], refused.json()["lot_code"]) == (409, "lot_expired", "OLD")
        scrapped = clerk_client.post(MOVEMENTS, issue_body(milk, bins[0], 5, lot="OLD", reason="scrapped: expired"), format="json")
        assert scrapped.status_code == 201
        assert Movement.objects.get(pk=scrapped.json()["id"]).reason == "scrapped: expired"

    def test_an_unknown_lot_is_not_found(self, post, clerk, milk, bins):
        with pytest.raises(RecordNotFound):
            post(**issue_body(milk, bins[0], 1, lot="NOPE"))


class TestCounts:
    def test_a_count_counts_one_lot(self, post, milk, bins):
        receive(post, milk, bins[0], 5, "A", TODAY + timedelta(days=1))
        receive(post, milk, bins[0], 5, "B", TODAY + timedelta(days=2))
        event = post(kind="count", product=milk.pk, location=bins[0].pk, counted_quantity="3", lot="B")
        assert (event.expected_quantity, event.delta) == (5, -2)
        assert lot_stock(milk, bins[0]) == {"A": 5, "B": 3}

    def test_a_count_finding_a_new_lot_makes_it(self, post, milk, bins):
        post(kind="count", product=milk.pk, location=bins[0].pk, counted_quantity="2", lot="FOUND",
             expires_on=(TODAY + timedelta(days=4)).isoformat())
        assert lot_stock(milk, bins[0]) == {"FOUND": 2}


def test_backdated_issue_of_a_lot_respects_its_later_history(post, milk, bins):
    earlier = timezone.now() - timedelta(days=2)
    receive(post, milk, bins[0], 5, "A", TODAY + timedelta(days=10), occurred_at=(earlier - timedelta(days=1)).isoformat())
    post(**issue_body(milk, bins[0], 5, lot="A"))  # now: takes all of A
    with pytest.raises(InsufficientStock) as refused:
        post(**issue_body(milk, bins[0], 1, lot="A", occurred_at=earlier.isoformat()))
    assert refused.value.shortages[0].lot_code == "A"


def test_the_projections_follow_lots_and_verify(post, clerk, milk, product, bins):
    receive(post, milk, bins[0], 5, "A", TODAY + timedelta(days=1))
    receive(post, milk, bins[0], 5, "B", TODAY + timedelta(days=2))
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="7")
    movement_post(user=clerk, movement=_issue(milk, bins[0], 7, kind="transfer", to=bins[1]))
    projections_catch_up()
    rows = {(r.location_id, r.lot.code): r.quantity for r in LotStock.objects.select_related("lot") if r.quantity}
    assert rows == {(bins[0].pk, "B"): 3, (bins[1].pk, "A"): 5, (bins[1].pk, "B"): 2}
    by_location = {(r.product_id, r.location_id): r.quantity for r in ProductLocationStock.objects.all() if r.quantity}
    assert by_location == {(milk.pk, bins[0].pk): 3, (milk.pk, bins[1].pk): 7, (product.pk, bins[0].pk): 7}
    assert verification.ledger_verify().intact


def test_a_tracked_products_tracking_is_frozen_once_it_has_movements(manager_client, post, milk, bins):
    receive(post, milk, bins[0], 1, "A")
    refused = manager_client.patch(f"/api/v1/products/{milk.pk}/", {"tracking": "none"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "history_protected")


def _issue(product, location, quantity, *, kind="issue", to=None):
    from ledger.parsing import parse_movement

    body = {"kind": kind, "product": product.pk, "quantity": str(quantity)}
    if kind == "transfer":
        body.update(from_location=location.pk, to_location=to.pk)
    else:
        body["location"] = location.pk
    return parse_movement(body)


def test_expiry_is_judged_on_the_movements_business_day(post, clerk, milk, bins):
    """A lot that expired yesterday could still be issued yesterday: a backdated issue takes it."""
    yesterday = timezone.now() - timedelta(days=1)
    receive(post, milk, bins[0], 5, "Y", timezone.localdate(yesterday), occurred_at=(yesterday - timedelta(hours=1)).isoformat())
    with pytest.raises(InsufficientStock):
        movement_post(user=clerk, movement=_issue(milk, bins[0], 1))
    assert post(**issue_body(milk, bins[0], 1, occurred_at=yesterday.isoformat())).lot.code == "Y"


class TestScannedGS1:
    """A receipt or issue may give the scanned string instead of product, lot, dates and quantity."""

    GTIN = "09506000134352"

    @pytest.fixture
    def scanned_milk(self, db):
        return ProductFactory(sku="MILK-GS1", tracking=Tracking.LOT, barcode="9506000134352")  # its EAN-13

    @pytest.mark.parametrize("text", [
        f"]C101{GTIN}10L-77\x1d17270331\x1d3712",
        f"(01){GTIN}(10)L-77(17)270331(37)12",
        f"01{GTIN}17270331\x1d10L-77\x1d3712",
    ])
    def test_a_receipt_reads_product_lot_expiry_and_count(self, clerk_client, scanned_milk, bins, text):
        body = {"kind": "receipt", "location": bins[0].pk, "gs1": text}
        response = clerk_client.post(MOVEMENTS, body, format="json")
        assert response.status_code == 201, response.json()
        event = response.json()
        assert (event["product"], event["lot_code"], event["quantity"]) == (scanned_milk.pk, "L-77", "12.000")
        assert Lot.objects.get(code="L-77").expires_on.isoformat() == "2027-03-31"

    def test_an_issue_scans_its_lot_and_takes_the_quantity_from_the_body(self, clerk_client, post, scanned_milk, bins):
        receive(post, scanned_milk, bins[0], 5, "L-77")
        receive(post, scanned_milk, bins[0], 5, "L-78")
        body = {"kind": "issue", "location": bins[0].pk, "quantity": "2", "gs1": f"01{self.GTIN}10L-78"}
        response = clerk_client.post(MOVEMENTS, body, format="json")
        assert (response.status_code, response.json()["lot_code"]) == (201, "L-78")

    @pytest.mark.parametrize("text, status, field", [
        (f"01{GTIN[:-1]}3", 400, "gs1"),  # bad check digit
        ("10L-77", 400, "gs1"),  # no GTIN
        ("01095060001343521713", 400, "gs1"),  # a date cut short
        ("0100000000000017", 404, "gs1"),  # a GTIN no product has
        ("text\x00with nul", 400, "gs1"),
    ])
    def test_a_malformed_or_unknown_string_is_refused_naming_gs1(self, clerk_client, scanned_milk, bins, text, status, field):
        response = clerk_client.post(MOVEMENTS, {"kind": "receipt", "location": bins[0].pk, "gs1": text}, format="json")
        assert response.status_code == status, response.json()
        assert set(response.json()["errors"]) == {field}
        assert not Movement.objects.exists()

    def test_a_field_given_both_ways_is_refused(self, clerk_client, scanned_milk, bins):
        body = {"kind": "receipt", "location": bins[0].pk, "lot": "OTHER", "gs1": f"01{self.GTIN}10L-77\x1d3712"}
        response = clerk_client.post(MOVEMENTS, body, format="json")
        assert (response.status_code, list(response.json()["errors"])) == (400, ["lot"])
