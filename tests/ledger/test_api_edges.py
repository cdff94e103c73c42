"""The ledger's API at the edges of its domain: retries of any size, batch keys, impossible times,
unreadable text, values past what the ledger holds. Each is a 4xx that changes nothing, or a replay."""
import json

import pytest

from ledger.models import LedgerHead, Movement
from ledger.parsing import EARLIEST_OCCURRED_AT
from ledger.store import COPY_FROM

pytestmark = pytest.mark.django_db

MOVEMENTS = "/api/v1/movements/"
BATCH = f"{MOVEMENTS}batch/"


def receipt(product, location, quantity="10", **extra):
    return {"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": quantity, **extra}


def head() -> int:
    return LedgerHead.objects.get().position


class TestRetries:
    def test_a_retried_large_batch_is_answered_from_the_ledger(self, clerk_client, product, bins):
        """Large batches take the bulk path (COPY on PostgreSQL): a retry must replay, not fail."""
        items = [receipt(product, bins[i % 3], "1", idempotency_key=f"erp-line-{i}") for i in range(COPY_FROM + 5)]
        first = clerk_client.post(BATCH, {"movements": items}, format="json")
        assert first.status_code == 201
        again = clerk_client.post(BATCH, {"movements": items}, format="json")
        assert again.status_code == 201, again.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert Movement.objects.count() == COPY_FROM + 5

    def test_a_retried_large_batch_that_adds_items_posts_only_the_new_ones(self, clerk_client, product, bins):
        items = [receipt(product, bins[0], "1", idempotency_key=f"line-{i}") for i in range(COPY_FROM + 5)]
        assert clerk_client.post(BATCH, {"movements": items}, format="json").status_code == 201
        more = items + [receipt(product, bins[0], "1", idempotency_key="line-new")]
        response = clerk_client.post(BATCH, {"movements": more}, format="json")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
        assert Movement.objects.count() == COPY_FROM + 6

    def test_the_same_instant_with_another_offset_is_the_same_request(self, clerk_client, product, bins):
        body = receipt(product, bins[0], occurred_at="2026-01-15T10:00:00Z")
        headers = {"HTTP_IDEMPOTENCY_KEY": "offset-1"}
        assert clerk_client.post(MOVEMENTS, body, format="json", **headers).status_code == 201
        same = {**body, "occurred_at": "2026-01-15T11:00:00+01:00"}
        again = clerk_client.post(MOVEMENTS, same, format="json", **headers)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        other = {**body, "occurred_at": "2026-01-15T11:00:00+00:00"}
        assert clerk_client.post(MOVEMENTS, other, format="json", **headers).status_code == 422


class TestBatchUnderOneKey:
    def test_a_batch_under_an_idempotency_key_is_posted_once(self, clerk_client, product, bins):
        body = {"movements": [receipt(product, bins[0], "2"), receipt(product, bins[1], "3")]}
        first = clerk_client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="erp-batch-7")
        assert first.status_code == 201
        assert [m["idempotency_key"] for m in first.json()["movements"]] == ["erp-batch-7:0", "erp-batch-7:1"]
        again = clerk_client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="erp-batch-7")
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert Movement.objects.count() == 2

    @pytest.mark.parametrize("change", ["drop", "add", "alter"])
    def test_the_same_batch_key_with_another_batch_is_422(self, clerk_client, product, bins, change):
        items = [receipt(product, bins[0], "2"), receipt(product, bins[1], "3")]
        assert clerk_client.post(BATCH, {"movements": items}, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
        other = {"drop": items[:1], "add": items + [receipt(product, bins[2])], "alter": [items[0], receipt(product, bins[1], "4")]}[change]
        response = clerk_client.post(BATCH, {"movements": other}, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
        assert Movement.objects.count() == 2

    def test_a_batch_key_and_item_keys_together_are_refused(self, clerk_client, product, bins):
        body = {"movements": [receipt(product, bins[0], idempotency_key="own")]}
        response = clerk_client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="batch")
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["errors"]
        assert not Movement.objects.exists()


class TestInputDomain:
    @pytest.mark.parametrize("occurred_at", [
        "2024-01-01T12:99:00Z", "2026-02-30T10:00:00Z", "2024-01-01T25:00:00Z", "2024-01-01T10:00:00+24:00",
        "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "3000-01-01T00:00:00Z",
        "2024-01-01T10:00:00",
    ])
    def test_a_time_outside_the_domain_is_400_on_every_posting_path(self, clerk_client, post, product, bins, occurred_at):
        original = post(**receipt(product, bins[0]))
        before = head()
        single = clerk_client.post(MOVEMENTS, receipt(product, bins[0], occurred_at=occurred_at), format="json")
        batch = clerk_client.post(BATCH, {"movements": [receipt(product, bins[0], occurred_at=occurred_at)]}, format="json")
        reverse = clerk_client.post(f"{MOVEMENTS}{original.pk}/reverse/", {"occurred_at": occurred_at}, format="json")
        for response in (single, batch, reverse):
            assert response.status_code == 400, response.content
            assert "occurred_at" in response.json()["errors"]
        assert head() == before

    def test_the_earliest_time_and_any_offset_are_accepted_and_stored_in_utc(self, clerk_client, product, bins):
        earliest = clerk_client.post(MOVEMENTS, receipt(product, bins[0], occurred_at=EARLIEST_OCCURRED_AT.isoformat()), format="json")
        assert earliest.status_code == 201
        far_offset = clerk_client.post(MOVEMENTS, receipt(product, bins[0], occurred_at="2026-01-01T23:30:00+20:00"), format="json")
        assert far_offset.status_code == 201, far_offset.json()
        assert far_offset.json()["occurred_at"] == "2026-01-01T03:30:00Z"

    @pytest.mark.parametrize("field, value", [
        ("reference", "PO\x001"), ("reference", "PO\ud8001"), ("reference", "PO\t1"),
        ("reason", "broken\x00"), ("reason", "half \udc00 a pair"), ("reason", "bell \x07"),
    ])
    def test_text_that_is_not_readable_text_is_400_naming_the_field(self, clerk_client, product, bins, field, value):
        raw = json.dumps(receipt(product, bins[0], **{field: value}))  # lone surrogates as \\u escapes
        response = clerk_client.post(MOVEMENTS, raw, content_type="application/json")
        assert response.status_code == 400 and field in response.json()["errors"]
        assert not Movement.objects.exists()

    def test_a_reason_may_run_over_lines(self, clerk_client, product, bins):
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0], reason="damaged\r\n\tbox 3"), format="json")
        assert response.status_code == 201

    @pytest.mark.parametrize("field, value", [
        ("quantity", "1000000000000"), ("quantity", "1e13"), ("unit_cost", "1000000000"), ("quantity", "1234567890123.456"),
    ])
    def test_values_past_the_domain_are_400_naming_the_field(self, clerk_client, product, bins, field, value):
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0], **{field: value}), format="json")
        assert response.status_code == 400 and field in response.json()["errors"]

    def test_the_largest_values_are_stored_exactly_and_verify(self, clerk_client, auditor_client, product, bins):
        body = receipt(product, bins[0], quantity="999999999999.999", unit_cost="999999999.9999")
        assert clerk_client.post(MOVEMENTS, body, format="json").status_code == 201
        stored = Movement.objects.get()
        assert (str(stored.quantity), str(stored.unit_cost)) == ("999999999999.999", "999999999.9999")
        assert auditor_client.get("/api/v1/ledger/verify/").json()["intact"] is True

    def test_an_on_hand_past_the_domain_is_409(self, clerk_client, product, bins):
        assert clerk_client.post(MOVEMENTS, receipt(product, bins[0], "999999999999.999"), format="json").status_code == 201
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0], "1"), format="json")
        assert response.status_code == 409 and response.json()["code"] == "on_hand_limit"

    @pytest.mark.parametrize("path", [MOVEMENTS, BATCH, "/api/v1/products/", "/api/v1/categories/"])
    def test_json_nested_a_thousand_levels_deep_is_400(self, clerk_client, manager_client, db, path):
        client = manager_client if "movements" not in path else clerk_client
        response = client.post(path, "[" * 1000 + "]" * 1000, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "malformed_request"


class TestNumbersAndIds:
    @pytest.mark.parametrize("value", ["²", "٣", "1e3", 2**63, "9223372036854775808", -1, 1.5, True])
    def test_an_id_that_is_no_id_is_400_naming_the_field(self, clerk_client, product, bins, value):
        body = {"kind": "transfer", "product": product.pk, "from_location": bins[0].pk, "to_location": value, "quantity": "1"}
        response = clerk_client.post(MOVEMENTS, body, format="json")
        assert response.status_code == 400 and "to_location" in response.json()["errors"]

    def test_reversing_an_id_past_any_key_is_not_found(self, clerk_client, db):
        response = clerk_client.post(f"{MOVEMENTS}{2**64}/reverse/", {}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert "reverses" in response.json()["errors"]

    @pytest.mark.parametrize("url", [
        "/api/v1/stock/?warehouse=99999999999999999999", "/api/v1/stock/by-location/?warehouse=1e300",
        "/api/v1/movements/?position_after=99999999999999999999", "/api/v1/movements/?user=1.5",
        "/api/v1/stock/as-of/?product=99999999999999999999&position=1",
    ])
    def test_a_number_past_any_key_in_a_query_is_400(self, auditor_client, db, url):
        assert auditor_client.get(url).status_code == 400

    def test_an_id_past_any_key_in_a_path_is_not_found(self, manager_client, db):
        response = manager_client.get(f"/api/v1/products/{2**64}/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")

    @pytest.mark.parametrize("field", ["unit_cost", "quantity"])
    def test_minus_zero_is_zero(self, clerk_client, product, bins, field):
        body = receipt(product, bins[0], **{field: "-0"}) if field == "unit_cost" else {
            "kind": "count", "product": product.pk, "location": bins[0].pk, "counted_quantity": "-0"}
        response = clerk_client.post(MOVEMENTS, body, format="json")
        assert response.status_code == 201
        text = response.content.decode()
        assert '"-0' not in text
        assert response.json() == clerk_client.get(f"{MOVEMENTS}{response.json()['id']}/").json()

    @pytest.mark.parametrize("occurred_at", ["2026-01-01T00:00:00Z\u0000", "2026-01-01T00:00:00Z\n", " 2026-01-01T00:00:00Z"])
    def test_a_time_with_anything_around_it_is_400(self, clerk_client, product, bins, occurred_at):
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0], occurred_at=occurred_at), format="json")
        assert response.status_code == 400 and "occurred_at" in response.json()["errors"]

    @pytest.mark.parametrize("field, value", [("unit_price", "1000000000"), ("reorder_point", "1000000000000")])
    def test_catalog_numbers_past_what_is_stored_exactly_are_400(self, manager_client, db, field, value):
        response = manager_client.post("/api/v1/products/", {"sku": "X-1", "name": "x", field: value}, format="json")
        assert response.status_code == 400 and field in response.json()["errors"]
