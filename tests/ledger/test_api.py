"""The ledger's HTTP surface: roles, one error shape for every bad input, idempotent retries."""
import pytest

from ledger.models import LedgerHead, Movement, StockLevel
from ledger.parsing import FIELDS_BY_KIND
from ledger.serializers import MovementInputSerializer

pytestmark = pytest.mark.django_db

MOVEMENTS = "/api/v1/movements/"


def receipt(product, location, quantity="10", **extra):
    return {"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": quantity, **extra}


def assert_nothing_changed():
    assert not Movement.objects.exists()
    assert not StockLevel.objects.exclude(quantity=0).exists()
    assert LedgerHead.objects.get().position == 0


class TestRoles:
    def test_clerk_posts_and_gets_position_and_balance(self, clerk_client, product, bins):
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["position"] == 1 and body["kind"] == "receipt"
        assert body["balances"] == [{"location": bins[0].pk, "quantity": "10.000"}]
        assert len(body["hash"]) == 64

    @pytest.mark.parametrize("role", ["auditor", "finance", "manager"])
    def test_other_roles_read_the_ledger_but_cannot_post(self, request, role, post, product, bins):
        post(**receipt(product, bins[0]))
        client = request.getfixturevalue(f"{role}_client")
        assert client.get(MOVEMENTS).status_code == 200
        refused = client.post(MOVEMENTS, receipt(product, bins[0]), format="json")
        assert refused.status_code == 403
        assert client.post(f"{MOVEMENTS}batch/", {"movements": [receipt(product, bins[0])]}, format="json").status_code == 403
        movement = Movement.objects.get()
        assert client.post(f"{MOVEMENTS}{movement.pk}/reverse/", {}, format="json").status_code == 403
        assert Movement.objects.count() == 1

    def test_anonymous_gets_401(self, anonymous_client, product, bins):
        assert anonymous_client.post(MOVEMENTS, receipt(product, bins[0]), format="json").status_code == 401
        assert anonymous_client.get(MOVEMENTS).status_code == 401

    def test_only_auditors_verify_the_chain(self, auditor_client, clerk_client, finance_client, post, product, bins):
        post(**receipt(product, bins[0]))
        body = auditor_client.get("/api/v1/ledger/verify/").json()
        assert body["intact"] is True and body["events"] == 1
        assert body["head_hash"] == Movement.objects.get().hash
        assert clerk_client.get("/api/v1/ledger/verify/").status_code == 403
        assert finance_client.get("/api/v1/ledger/verify/").status_code == 403

    def test_the_head_is_published_to_readers(self, finance_client, post, product, bins):
        movement = post(**receipt(product, bins[0]))
        assert finance_client.get("/api/v1/ledger/head/").json() == {"position": 1, "hash": movement.hash}


BAD_INPUTS = [
    ("unknown product", lambda p, b: receipt(p, b[0]) | {"product": 999999}, 404, "not_found", "product"),
    ("product not an id", lambda p, b: receipt(p, b[0]) | {"product": "BOLT"}, 400, "validation_error", "product"),
    ("unknown location", lambda p, b: receipt(p, b[0]) | {"location": 999999}, 404, "not_found", "location"),
    ("zero quantity", lambda p, b: receipt(p, b[0], "0"), 400, "validation_error", "quantity"),
    ("negative quantity", lambda p, b: receipt(p, b[0], "-3"), 400, "validation_error", "quantity"),
    ("non-numeric quantity", lambda p, b: receipt(p, b[0], "ten"), 400, "validation_error", "quantity"),
    ("NaN quantity", lambda p, b: receipt(p, b[0], "NaN"), 400, "validation_error", "quantity"),
    ("too precise quantity", lambda p, b: receipt(p, b[0], "1.0001"), 400, "validation_error", "quantity"),
    ("huge quantity", lambda p, b: receipt(p, b[0], "1e20"), 400, "validation_error", "quantity"),
    ("boolean quantity", lambda p, b: receipt(p, b[0], True), 400, "validation_error", "quantity"),
    ("missing quantity", lambda p, b: {"kind": "issue", "product": p.pk, "location": b[0].pk}, 400, "validation_error", "quantity"),
    ("missing kind", lambda p, b: {"product": p.pk, "location": b[0].pk, "quantity": "1"}, 400, "validation_error", "kind"),
    ("unknown kind", lambda p, b: receipt(p, b[0]) | {"kind": "gift"}, 400, "validation_error", "kind"),
    ("unknown field", lambda p, b: receipt(p, b[0]) | {"qty": "1"}, 400, "validation_error", "qty"),
    ("transfer to the same location", lambda p, b: {"kind": "transfer", "product": p.pk, "from_location": b[0].pk, "to_location": b[0].pk, "quantity": "1"}, 400, "validation_error", "to_location"),
    ("transfer without a destination", lambda p, b: {"kind": "transfer", "product": p.pk, "from_location": b[0].pk, "quantity": "1"}, 400, "validation_error", "to_location"),
    ("count without counted quantity", lambda p, b: {"kind": "count", "product": p.pk, "location": b[0].pk}, 400, "validation_error", "counted_quantity"),
    ("naive occurred_at", lambda p, b: receipt(p, b[0]) | {"occurred_at": "2026-01-01T10:00:00"}, 400, "validation_error", "occurred_at"),
    ("garbled occurred_at", lambda p, b: receipt(p, b[0]) | {"occurred_at": "yesterday"}, 400, "validation_error", "occurred_at"),
    ("future occurred_at", lambda p, b: receipt(p, b[0]) | {"occurred_at": "2999-01-01T00:00:00Z"}, 400, "validation_error", "occurred_at"),
    ("negative unit cost", lambda p, b: receipt(p, b[0]) | {"unit_cost": "-1"}, 400, "validation_error", "unit_cost"),
    ("overlong reference", lambda p, b: receipt(p, b[0]) | {"reference": "x" * 65}, 400, "validation_error", "reference"),
    ("issue beyond stock", lambda p, b: {"kind": "issue", "product": p.pk, "location": b[0].pk, "quantity": "1"}, 409, "insufficient_stock", None),
]


class TestBadInput:
    @pytest.mark.parametrize("name,make,status,code,field", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
    def test_bad_input_is_a_4xx_json_error_that_changes_nothing(self, clerk_client, product, bins, name, make, status, code, field):
        response = clerk_client.post(MOVEMENTS, make(product, bins), format="json")
        assert response.status_code == status, response.content
        body = response.json()
        assert body["code"] == code
        assert body["detail"]
        if field:
            assert field in body["errors"]
        assert_nothing_changed()

    def test_insufficient_stock_body_carries_what_a_client_needs(self, clerk_client, post, product, bins):
        post(**receipt(product, bins[0], "3"))
        response = clerk_client.post(MOVEMENTS, {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "5"}, format="json")
        assert response.status_code == 409
        assert response.json() == {
            "code": "insufficient_stock",
            "detail": "Only 3 on hand of BOLT-M8 at MAIN/A-01; 5 requested.",
            "product": product.pk, "location": bins[0].pk, "available": "3", "requested": "5",
            "shortages": [{"product": product.pk, "location": bins[0].pk, "available": "3", "requested": "5"}],
        }

    def test_inactive_product_is_refused(self, clerk_client, product, bins):
        product.is_active = False
        product.save()
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json")
        assert (response.status_code, response.json()["code"]) == (400, "inactive_product")
        assert_nothing_changed()

    def test_inactive_location_is_refused(self, clerk_client, product, bins):
        bins[0].is_active = False
        bins[0].save()
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json")
        assert (response.status_code, response.json()["code"]) == (400, "inactive_location")
        assert_nothing_changed()

    @pytest.mark.parametrize(("payload", "code", "field"), [
        ("{not json", "malformed_request", None),  # not JSON at all
        ("[1, 2]", "validation_error", "non_field_errors"),  # JSON, but not an object
        ('"text"', "validation_error", "non_field_errors"),
        ("", "validation_error", "kind"),  # no body: an object with no fields
    ])
    def test_malformed_or_non_object_bodies_are_400(self, clerk_client, db, payload, code, field):
        response = clerk_client.generic("POST", MOVEMENTS, payload, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, code)
        assert field is None or field in response.json()["errors"]
        assert_nothing_changed()

    def test_form_encoded_body_is_understood_or_refused_cleanly(self, clerk_client, product, bins):
        response = clerk_client.post(MOVEMENTS, {"kind": "receipt", "product": product.pk}, format="multipart")
        assert response.status_code == 400
        assert_nothing_changed()

    def test_bad_idempotency_key_header_is_a_400(self, clerk_client, product, bins):
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json", HTTP_IDEMPOTENCY_KEY="x" * 500)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["errors"]
        assert_nothing_changed()


class TestIdempotencyOverHttp:
    def test_retry_returns_the_same_status_and_body_marked_replayed(self, clerk_client, product, bins):
        first = clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert Movement.objects.count() == 1

    def test_same_key_other_body_is_422(self, clerk_client, product, bins):
        clerk_client.post(MOVEMENTS, receipt(product, bins[0]), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        response = clerk_client.post(MOVEMENTS, receipt(product, bins[0], "11"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert Movement.objects.count() == 1

    def test_reversal_retry_is_idempotent(self, clerk_client, post, product, bins):
        movement = post(**receipt(product, bins[0]))
        url = f"{MOVEMENTS}{movement.pk}/reverse/"
        first = clerk_client.post(url, {"reason": "typo"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
        again = clerk_client.post(url, {"reason": "typo"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["id"] == first.json()["id"]
        assert Movement.objects.filter(kind="reversal").count() == 1


class TestBatchOverHttp:
    def test_batch_posts_all(self, clerk_client, product, bins):
        items = [receipt(product, bins[0], "5"), {"kind": "transfer", "product": product.pk, "from_location": bins[0].pk, "to_location": bins[1].pk, "quantity": "2"}]
        response = clerk_client.post(f"{MOVEMENTS}batch/", {"movements": items}, format="json")
        assert response.status_code == 201
        assert [m["position"] for m in response.json()["movements"]] == [1, 2]

    def test_invalid_item_is_named_and_nothing_is_posted(self, clerk_client, product, bins):
        items = [receipt(product, bins[0], "5"), receipt(product, bins[0], "-5")]
        response = clerk_client.post(f"{MOVEMENTS}batch/", {"movements": items}, format="json")
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], body["item"]) == ("validation_error", 1)
        assert "quantity" in body["errors"]
        assert_nothing_changed()

    def test_shortage_in_a_later_item_rolls_back_the_whole_batch(self, clerk_client, product, bins):
        items = [receipt(product, bins[0], "5"), {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "6"}]
        response = clerk_client.post(f"{MOVEMENTS}batch/", {"movements": items}, format="json")
        assert response.status_code == 409
        assert response.json()["item"] == 1
        assert_nothing_changed()

    @pytest.mark.parametrize("body", [{}, {"movements": "x"}, {"movements": []}, [1]])
    def test_malformed_batch_is_400(self, clerk_client, db, body):
        response = clerk_client.post(f"{MOVEMENTS}batch/", body, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"


class TestReverseOverHttp:
    def test_reverse_posts_a_reversal(self, clerk_client, post, product, bins):
        movement = post(**receipt(product, bins[0]))
        response = clerk_client.post(f"{MOVEMENTS}{movement.pk}/reverse/", {"reason": "wrong bin"}, format="json")
        assert response.status_code == 201
        assert (response.json()["kind"], response.json()["reverses"]) == ("reversal", movement.pk)
        detail = clerk_client.get(f"{MOVEMENTS}{movement.pk}/").json()
        assert detail["reversed_by"] == response.json()["id"]

    def test_second_reversal_is_409(self, clerk_client, post, product, bins):
        movement = post(**receipt(product, bins[0]))
        clerk_client.post(f"{MOVEMENTS}{movement.pk}/reverse/", {}, format="json")
        response = clerk_client.post(f"{MOVEMENTS}{movement.pk}/reverse/", {}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "already_reversed")

    @pytest.mark.parametrize("pk", ["999", "abc"])
    def test_reversing_what_is_not_there_is_404(self, clerk_client, db, pk):
        response = clerk_client.post(f"{MOVEMENTS}{pk}/reverse/", {}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert "reverses" in response.json()["errors"]
        assert_nothing_changed()

    def test_unknown_reversal_field_is_400(self, clerk_client, post, product, bins):
        movement = post(**receipt(product, bins[0]))
        response = clerk_client.post(f"{MOVEMENTS}{movement.pk}/reverse/", {"quantity": "1"}, format="json")
        assert response.status_code == 400 and "quantity" in response.json()["errors"]


class TestReadingTheLedger:
    def test_cursor_pages_follow_ledger_order(self, auditor_client, post, product, bins):
        for _ in range(5):
            post(**receipt(product, bins[0], "1"))
        first = auditor_client.get(MOVEMENTS, {"page_size": 2}).json()
        assert [m["position"] for m in first["results"]] == [1, 2]
        second = auditor_client.get(first["next"]).json()
        assert [m["position"] for m in second["results"]] == [3, 4]

    def test_filters(self, auditor_client, post, product, bins, clerk):
        from tests.factories import ProductFactory

        other = ProductFactory()
        post(**receipt(product, bins[0], "5", reference="PO-1"))
        post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="1")
        post(**receipt(other, bins[2], "5", reference="PO-2"))

        def positions(**params):
            return [m["position"] for m in auditor_client.get(MOVEMENTS, params).json()["results"]]

        assert positions(product=product.pk) == [1, 2]
        assert positions(location=bins[1].pk) == [2]
        assert positions(kind="receipt") == [1, 3]
        assert positions(reference="PO-2") == [3]
        assert positions(user=clerk.pk) == [1, 2, 3]
        assert positions(position_after=1) == [2, 3]
        assert positions(occurred_after="2000-01-01T00:00:00Z", occurred_before="2000-01-02T00:00:00Z") == []

    def test_bad_filter_is_400(self, auditor_client, db):
        response = auditor_client.get(MOVEMENTS, {"occurred_after": "soon"})
        assert response.status_code == 400
        assert "occurred_after" in response.json()["errors"]

    def test_unknown_movement_is_404(self, auditor_client, db):
        response = auditor_client.get(f"{MOVEMENTS}424242/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_schema_input_matches_the_parser():
    """The OpenAPI description of a movement names exactly the fields the parser accepts."""
    documented = set(MovementInputSerializer().fields)
    accepted = set().union(*FIELDS_BY_KIND.values())
    assert documented == accepted


def test_a_movement_is_written_as_drf_would_write_its_declared_fields(post, product, bins):
    """The fast representation and the declared (schema) fields agree, value for value."""
    from rest_framework import serializers as drf

    from ledger.serializers import MovementSerializer

    movement = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10.5", unit_cost="2.4")
    fast = MovementSerializer(movement).data
    declared = MovementSerializer().fields
    assert set(fast) == set(declared)
    for name in ("quantity", "delta", "unit_cost", "occurred_at", "recorded_at", "counted_quantity"):
        field = declared[name]
        value = getattr(movement, name)
        assert fast[name] == (None if value is None else field.to_representation(value)), name
    assert isinstance(declared["balances"], drf.ListSerializer)


def test_posting_costs_a_small_fixed_number_of_queries(clerk_client, post, product, bins):
    """The catalog is remembered; then the guard lock, and the guard write with the whole append
    (head, chain link, insert) in one round trip on PostgreSQL. SQLite takes them one at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for location in bins[:2]:  # the catalog is remembered from here on
        post(kind="receipt", product=product.pk, location=location.pk, quantity="100")
    clerk_client.get("/api/v1/movements/")  # and the token
    expected = 2 if connection.vendor == "postgresql" else 5
    bodies = [
        {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"},
        {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "1"},
        {"kind": "transfer", "product": product.pk, "from_location": bins[0].pk, "to_location": bins[1].pk, "quantity": "1"},
        {"kind": "count", "product": product.pk, "location": bins[1].pk, "counted_quantity": "3"},
    ]
    for body in bodies:
        with CaptureQueriesContext(connection) as queries:
            response = clerk_client.post(MOVEMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY=f"q-{body['kind']}")
        assert response.status_code == 201
        # Savepoints aside, and the generation counters, which a process reads at most once a second.
        statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"] and "common_generation" not in q["sql"]]
        assert len(statements) == expected, (body["kind"], statements)
