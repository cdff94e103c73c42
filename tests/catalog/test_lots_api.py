"""The lots list and detail: who may make and correct lots, what a lot shows (its stock now), the
filters (product, code, expiring before, expired today in the books' zone, with stock)."""
from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Lot, Tracking
from catalog.serializers import LotSerializer
from tests.factories import ProductFactory
from tests.reports.lot_ledger import milk, post, receive  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

LOTS = "/api/v1/lots/"
TODAY = timezone.localdate()


def codes(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["code"] for row in response.json()["results"]]


class TestMaking:
    @pytest.mark.parametrize("role", ["clerk", "manager"])
    def test_a_clerk_or_manager_makes_a_lot_beforehand(self, request, role, milk):
        body = {"product": milk.pk, "code": "L-1", "expires_on": "2027-03-31", "manufactured_on": "2026-12-01"}
        response = request.getfixturevalue(f"{role}_client").post(LOTS, body)
        assert response.status_code == 201, response.json()
        lot = Lot.objects.get(product=milk, code="L-1")
        assert response.json() == {
            "id": lot.pk, "product": milk.pk, "sku": "MILK-1L", "code": "L-1", "expires_on": "2027-03-31",
            "manufactured_on": "2026-12-01", "on_hand": "0.000", "expired": False,
            "created_at": response.json()["created_at"],
        }

    @pytest.mark.parametrize("role", ["auditor", "finance"])
    def test_readers_do_not_make_lots(self, request, role, milk):
        response = request.getfixturevalue(f"{role}_client").post(LOTS, {"product": milk.pk, "code": "L-1"})
        assert response.status_code == 403
        assert not Lot.objects.exists()

    def test_a_receipt_then_names_the_lot_made_beforehand(self, manager_client, post, milk, bins):
        made = manager_client.post(LOTS, {"product": milk.pk, "code": "L-1", "expires_on": "2027-03-31"}).json()
        event = receive(post, milk, bins[0], 10, "L-1")
        assert event.lot_id == made["id"]
        assert manager_client.get(f"{LOTS}{made['id']}/").json()["on_hand"] == "10.000"

    def test_a_product_without_tracking_has_no_lots(self, manager_client, product):
        response = manager_client.post(LOTS, {"product": product.pk, "code": "L-1"})
        assert response.status_code == 400
        assert response.json()["errors"] == {"product": ["Product BOLT-M8 is not tracked by lot."]}

    def test_a_code_is_unique_within_its_product(self, manager_client, milk):
        other = ProductFactory(tracking=Tracking.LOT)
        assert manager_client.post(LOTS, {"product": milk.pk, "code": "L-1"}).status_code == 201
        assert manager_client.post(LOTS, {"product": other.pk, "code": "L-1"}).status_code == 201
        again = manager_client.post(LOTS, {"product": milk.pk, "code": "L-1"})
        assert again.status_code == 409 and again.json()["code"] == "already_exists"

    def test_a_product_that_is_not_there_is_a_404(self, manager_client):
        response = manager_client.post(LOTS, {"product": 999999, "code": "L-1"})
        assert response.status_code == 404 and set(response.json()["errors"]) == {"product"}

    @pytest.mark.parametrize("code", ["", "Müller-7", "L\x001", "x" * 65, "L\t1"])
    def test_a_code_a_movement_could_not_name_is_refused(self, manager_client, milk, code):
        response = manager_client.post(LOTS, {"product": milk.pk, "code": code})
        assert response.status_code == 400 and set(response.json()["errors"]) == {"code"}
        assert not Lot.objects.exists()

    def test_made_after_it_expires_is_refused(self, manager_client, milk):
        body = {"product": milk.pk, "code": "L-1", "expires_on": "2027-01-01", "manufactured_on": "2027-01-02"}
        response = manager_client.post(LOTS, body)
        assert response.status_code == 400
        assert response.json()["errors"] == {"manufactured_on": [LotSerializer.MADE_AFTER_EXPIRY]}


class TestCorrecting:
    def test_a_manager_corrects_the_dates(self, manager_client, milk):
        lot = Lot.objects.create(product=milk, code="L-1", expires_on=TODAY)
        response = manager_client.patch(f"{LOTS}{lot.pk}/", {"expires_on": "2027-06-30", "manufactured_on": None})
        assert response.status_code == 200, response.json()
        lot.refresh_from_db()
        assert (lot.expires_on.isoformat(), lot.manufactured_on) == ("2027-06-30", None)

    def test_a_clerk_makes_lots_but_does_not_correct_them(self, clerk_client, milk):
        lot = Lot.objects.create(product=milk, code="L-1", expires_on=TODAY)
        assert clerk_client.patch(f"{LOTS}{lot.pk}/", {"expires_on": "2027-06-30"}).status_code == 403

    @pytest.mark.parametrize("field", ["code", "product"])
    def test_product_and_code_are_fixed_once_saved(self, manager_client, milk, field):
        lot = Lot.objects.create(product=milk, code="L-1")
        other = ProductFactory(tracking=Tracking.LOT)
        change = {"code": "L-2", "product": other.pk}[field]
        response = manager_client.patch(f"{LOTS}{lot.pk}/", {field: change, "expires_on": "2027-06-30"})
        assert response.status_code == 400
        assert response.json()["errors"] == {field: [LotSerializer.FIXED.format(field=field)]}
        lot.refresh_from_db()
        assert (lot.product_id, lot.code, lot.expires_on) == (milk.pk, "L-1", None)

    def test_only_the_dates_are_sent_to_correct_a_lot(self, manager_client, milk):
        lot = Lot.objects.create(product=milk, code="L-1")
        response = manager_client.patch(f"{LOTS}{lot.pk}/", {"code": "L-1", "sku": "MILK-1L", "expires_on": "2027-06-30"})
        assert response.status_code == 400
        assert response.json()["errors"] == {"code": [LotSerializer.FIXED.format(field="code")], "sku": [LotSerializer.ONLY_DATES]}
        assert manager_client.patch(f"{LOTS}{lot.pk}/", False).status_code == 400  # not an object

    def test_a_correction_keeps_made_before_expiry(self, manager_client, milk):
        lot = Lot.objects.create(product=milk, code="L-1", manufactured_on=TODAY)
        response = manager_client.patch(f"{LOTS}{lot.pk}/", {"expires_on": (TODAY - timedelta(days=1)).isoformat()})
        assert response.status_code == 400 and set(response.json()["errors"]) == {"manufactured_on"}

    def test_put_and_delete_are_not_offered(self, manager_client, milk):
        lot = Lot.objects.create(product=milk, code="L-1")
        assert manager_client.put(f"{LOTS}{lot.pk}/", {"product": milk.pk, "code": "L-1"}).status_code == 405
        assert manager_client.delete(f"{LOTS}{lot.pk}/").status_code == 405


class TestReading:
    @pytest.mark.parametrize("role", ["clerk", "auditor", "finance", "manager"])
    def test_every_role_reads_lots(self, request, role, milk):
        Lot.objects.create(product=milk, code="L-1")
        assert codes(request.getfixturevalue(f"{role}_client").get(LOTS)) == ["L-1"]

    def test_on_hand_is_the_lots_stock_over_every_location(self, auditor_client, post, milk, bins):
        receive(post, milk, bins[0], "7.5", "L-1", TODAY + timedelta(days=5))
        receive(post, milk, bins[1], "2.25", "L-1")
        receive(post, milk, bins[1], 4, "L-2", TODAY + timedelta(days=9))
        post(kind="issue", product=milk.pk, location=bins[1].pk, quantity="4", lot="L-2")
        rows = {row["code"]: row for row in auditor_client.get(LOTS).json()["results"]}
        assert (rows["L-1"]["on_hand"], rows["L-2"]["on_hand"]) == ("9.750", "0.000")
        assert rows["L-1"]["sku"] == "MILK-1L"

    def test_expired_is_after_its_expiry_date_today(self, auditor_client, milk):
        yesterday = Lot.objects.create(product=milk, code="OLD", expires_on=TODAY - timedelta(days=1))
        Lot.objects.create(product=milk, code="TODAY", expires_on=TODAY)
        Lot.objects.create(product=milk, code="NONE")
        assert codes(auditor_client.get(LOTS, {"expired": "true"})) == ["OLD"]
        assert sorted(codes(auditor_client.get(LOTS, {"expired": "false"}))) == ["NONE", "TODAY"]
        assert auditor_client.get(f"{LOTS}{yesterday.pk}/").json()["expired"] is True

    def test_expired_follows_the_books_time_zone(self, auditor_client, milk, settings):
        # A zone whose date is not UTC's now: 14 hours ahead from 10:00 UTC, 11 behind before 11:00.
        utc = timezone.now().astimezone(dt_timezone.utc)
        settings.TIME_ZONE = "Pacific/Kiritimati" if utc.hour >= 10 else "Pacific/Pago_Pago"
        today_there = timezone.localdate()
        assert today_there != utc.date()
        Lot.objects.create(product=milk, code="L-1", expires_on=today_there - timedelta(days=1))
        Lot.objects.create(product=milk, code="L-2", expires_on=today_there)
        assert codes(auditor_client.get(LOTS, {"expired": "true"})) == ["L-1"]
        assert codes(auditor_client.get(LOTS, {"expired": "false"})) == ["L-2"]

    def test_expires_before_a_date(self, auditor_client, milk):
        for code, day in (("A", "2027-01-01"), ("B", "2027-01-31"), ("C", None)):
            Lot.objects.create(product=milk, code=code, expires_on=day)
        assert codes(auditor_client.get(LOTS, {"expires_before": "2027-01-31"})) == ["A"]
        assert codes(auditor_client.get(LOTS, {"expires_before": "2027-02-01"})) == ["A", "B"]

    def test_with_stock(self, auditor_client, post, milk, bins):
        receive(post, milk, bins[0], 3, "FULL")
        receive(post, milk, bins[0], 3, "EMPTIED")
        post(kind="issue", product=milk.pk, location=bins[0].pk, quantity="3", lot="EMPTIED")
        Lot.objects.create(product=milk, code="NEVER")
        assert codes(auditor_client.get(LOTS, {"with_stock": "true"})) == ["FULL"]
        assert sorted(codes(auditor_client.get(LOTS, {"with_stock": "false"}))) == ["EMPTIED", "NEVER"]

    def test_by_product_and_code(self, auditor_client, milk):
        cream = ProductFactory(tracking=Tracking.LOT)
        Lot.objects.create(product=milk, code="L-1")
        Lot.objects.create(product=cream, code="L-1")
        Lot.objects.create(product=cream, code="L-2")
        assert codes(auditor_client.get(LOTS, {"product": cream.pk})) == ["L-1", "L-2"]
        found = auditor_client.get(LOTS, {"code": "L-1", "product": milk.pk}).json()["results"]
        assert [row["product"] for row in found] == [milk.pk]

    def test_ordering_by_on_hand_and_search_by_sku(self, auditor_client, post, milk, bins):
        receive(post, milk, bins[0], 1, "SMALL")
        receive(post, milk, bins[0], 9, "LARGE")
        ProductFactory(sku="CREAM", tracking=Tracking.LOT).lots.create(code="C-1")
        assert codes(auditor_client.get(LOTS, {"ordering": "-on_hand", "search": "MILK"})) == ["LARGE", "SMALL"]

    @pytest.mark.parametrize("query", [
        {"expired": "maybe"}, {"with_stock": "2"}, {"expires_before": "2027-02-30"}, {"product": "x"},
        {"ordering": "product__unit_price"},
    ])
    def test_a_filter_it_cannot_use_is_a_400_naming_it(self, auditor_client, query):
        response = auditor_client.get(LOTS, query)
        assert response.status_code == 400 and set(response.json()["errors"]) == set(query)

    def test_a_lot_that_is_not_there_is_a_404(self, auditor_client):
        assert auditor_client.get(f"{LOTS}999999/").status_code == 404

    def test_the_on_hand_sum_is_exact(self, auditor_client, post, milk, bins):
        for location, quantity in ((bins[0], "0.1"), (bins[1], "0.2"), (bins[2], "0.7")):
            receive(post, milk, location, quantity, "L-1")
        assert auditor_client.get(LOTS).json()["results"][0]["on_hand"] == "1.000"
        assert Decimal(auditor_client.get(LOTS, {"with_stock": "true"}).json()["results"][0]["on_hand"]) == 1
