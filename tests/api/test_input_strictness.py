"""Input that used to be silently ignored or wrongly accepted is refused, naming what was wrong.

Query parameters a list reads (filters, ``ordering``, ``search``, ``page``, ``page_size``,
``cursor``): junk, or one given twice, is a 400 ``validation_error`` naming the parameter; an empty
value means "not given"; parameters no list reads (a cache-buster) are left alone. Catalog text
(codes, SKUs, names) holds no control characters and is valid Unicode. A form body that gives a
field twice is refused. Stock as of a product or location that does not exist, and the reversal
of a movement that does not exist, are 404 ``not_found``.
"""
import base64
import json
from decimal import Decimal

import pytest

from catalog.models import Category, Location, Product, Warehouse
from common.api.filters import BOOLEAN_EXPECTED, ORDERING_UNKNOWN
from common.api.pagination import CURSOR_INVALID, MAX_PAGE_SIZE, PAGE_INVALID, PAGE_SIZE_INVALID
from common.api.parsers import REPEATED
from common.text import CONTROL_CHARACTER, UNPAIRED_SURROGATE
from ledger.errors import RecordNotFound
from ledger.models import LedgerHead, Movement
from tests.factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
MOVEMENTS = "/api/v1/movements/"
AS_OF = "/api/v1/stock/as-of/"


def refused(response, parameter, status=400, code="validation_error") -> dict:
    """The one answer promised: the status, the code, and the parameter named in ``errors``."""
    assert response.status_code == status, response.content[:1000]
    body = response.json()
    assert body["code"] == code, body
    assert parameter in body.get("errors", {}), body
    assert body["detail"]
    return body


def assert_ledger_untouched():
    assert not Movement.objects.exists()
    assert LedgerHead.objects.get().position == 0


# ---------------------------------------------------------------- filters and query parameters

LISTS = [
    PRODUCTS, "/api/v1/categories/", "/api/v1/warehouses/", "/api/v1/locations/",
    "/api/v1/stock/", "/api/v1/stock/by-product/", "/api/v1/stock/by-location/", "/api/v1/stock/by-lot/",
]


class TestBooleanFilters:
    @pytest.mark.parametrize("url,name", [
        (PRODUCTS, "is_active"), ("/api/v1/warehouses/", "is_active"), ("/api/v1/locations/", "is_active"),
        ("/api/v1/categories/", "root"),
        ("/api/v1/stock/", "include_zero"), ("/api/v1/stock/by-product/", "include_zero"),
        ("/api/v1/stock/by-location/", "include_zero"), ("/api/v1/stock/by-lot/", "include_zero"),
        ("/api/v1/stock/by-lot/", "expired"),
    ])
    @pytest.mark.parametrize("value", ["maybe", "perhaps", "2", "unknown", "None", "true!", "\u0000"])
    def test_junk_in_a_boolean_filter_is_400_naming_it(self, auditor_client, url, name, value):
        body = refused(auditor_client.get(url, {name: value}), name)
        assert body["errors"][name] == [BOOLEAN_EXPECTED]

    @pytest.mark.parametrize("value,listed", [
        ("true", ["ON"]), ("1", ["ON"]), ("TRUE", ["ON"]), ("yes", ["ON"]),
        ("false", ["OFF"]), ("0", ["OFF"]), ("no", ["OFF"]),
        ("", ["OFF", "ON"]),  # empty: not given, as the browsable API's filter form sends it
    ])
    def test_booleans_are_read_as_the_rest_of_the_api_reads_them(self, clerk_client, value, listed):
        ProductFactory(sku="ON")
        ProductFactory(sku="OFF", is_active=False)
        response = clerk_client.get(PRODUCTS, {"is_active": value})
        assert [p["sku"] for p in response.json()["results"]] == listed


class TestOtherFilters:
    @pytest.mark.parametrize("url,params,name", [
        (MOVEMENTS, {"kind": "gift"}, "kind"),
        (PRODUCTS, {"unit": "furlong"}, "unit"),
        (MOVEMENTS, {"user": "abc"}, "user"),
        (MOVEMENTS, {"product": "abc"}, "product"),
        (MOVEMENTS, {"position_after": "-1"}, "position_after"),
        ("/api/v1/stock/", {"warehouse": "abc"}, "warehouse"),
        ("/api/v1/stock/", {"product": "1.5"}, "product"),
        ("/api/v1/locations/", {"warehouse": "abc"}, "warehouse"),
        ("/api/v1/categories/", {"parent": "abc"}, "parent"),
    ])
    def test_a_value_a_filter_cannot_take_is_400_naming_it(self, auditor_client, url, params, name):
        refused(auditor_client.get(url, params), name)

    @pytest.mark.parametrize("url,name,values", [
        (PRODUCTS, "is_active", ["true", "false"]),
        (PRODUCTS, "sku", ["A", "B"]),
        (PRODUCTS, "ordering", ["sku", "name"]),
        (PRODUCTS, "search", ["a", "b"]),
        (PRODUCTS, "page", ["1", "2"]),
        (PRODUCTS, "page_size", ["1", "2"]),
        ("/api/v1/stock/", "include_zero", ["true", "true"]),
        (MOVEMENTS, "kind", ["receipt", "issue"]),
        (MOVEMENTS, "page_size", ["1", "2"]),
        (MOVEMENTS, "cursor", ["", ""]),
    ])
    def test_a_parameter_given_twice_is_400_naming_it(self, auditor_client, url, name, values):
        body = refused(auditor_client.get(url, {name: values}), name)
        assert REPEATED in body["errors"][name]

    def test_a_saved_head_given_twice_is_400_naming_it(self, auditor_client):
        response = auditor_client.get("/api/v1/ledger/verify/", {"expect": ["0:" + "0" * 64, "1:" + "1" * 64]})
        assert refused(response, "expect")["errors"]["expect"] == [REPEATED]

    def test_a_search_with_a_nul_is_400_naming_it(self, auditor_client):
        refused(auditor_client.get(PRODUCTS, {"search": "a\u0000b"}), "search")

    @pytest.mark.parametrize("url", LISTS + [MOVEMENTS])
    def test_parameters_no_list_reads_are_left_alone(self, auditor_client, url):
        """A client's cache-buster (``_=...``) or a parameter meant for another version is no error."""
        assert auditor_client.get(url, {"_": "1712345678", "fields": "id"}).status_code == 200


class TestOrdering:
    @pytest.mark.parametrize("url", LISTS)
    @pytest.mark.parametrize("value", ["password", "-password", "sku,password", "--id", "-", ",", "quantity,", "id;drop"])
    def test_an_ordering_the_list_does_not_offer_is_400_naming_it(self, auditor_client, url, value):
        body = refused(auditor_client.get(url, {"ordering": value}), "ordering")
        assert body["errors"]["ordering"][0].startswith(ORDERING_UNKNOWN.split("{")[0])

    def test_a_valid_ordering_still_orders(self, clerk_client):
        ProductFactory(sku="B", name="one")
        ProductFactory(sku="A", name="two")
        ProductFactory(sku="C", name="one")
        found = clerk_client.get(PRODUCTS, {"ordering": "name, -sku"}).json()["results"]
        assert [p["sku"] for p in found] == ["C", "B", "A"]
        assert clerk_client.get(PRODUCTS, {"ordering": ""}).status_code == 200  # empty: the default order


class TestPageNumberPages:
    @pytest.mark.parametrize("url", LISTS)
    @pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "1e3", " 5", "\u0665", str(MAX_PAGE_SIZE + 1), "9" * 5000])
    def test_a_page_size_outside_1_to_the_maximum_is_400_naming_it(self, auditor_client, url, value):
        body = refused(auditor_client.get(url, {"page_size": value}), "page_size")
        assert body["errors"]["page_size"] == [PAGE_SIZE_INVALID.format(maximum=MAX_PAGE_SIZE)]

    def test_the_documented_maximum_is_served_whole(self, clerk_client):
        for _ in range(3):
            ProductFactory()
        page = clerk_client.get(PRODUCTS, {"page_size": MAX_PAGE_SIZE}).json()
        assert (page["count"], len(page["results"])) == (3, 3)
        assert len(clerk_client.get(PRODUCTS, {"page_size": ""}).json()["results"]) == 3  # empty: the default

    @pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "first"])
    def test_a_page_that_is_no_page_number_is_400_naming_it(self, clerk_client, value):
        body = refused(clerk_client.get(PRODUCTS, {"page": value}), "page")
        assert body["errors"]["page"] == [PAGE_INVALID]

    @pytest.mark.parametrize("value", ["2", "99", "9" * 5000])
    def test_a_page_past_the_last_is_404(self, clerk_client, value):
        ProductFactory()
        response = clerk_client.get(PRODUCTS, {"page": value})
        assert (response.status_code, response.json()["code"]) == (404, "not_found")

    def test_the_last_page_by_name(self, clerk_client):
        for _ in range(3):
            ProductFactory()
        assert len(clerk_client.get(PRODUCTS, {"page": "last", "page_size": 2}).json()["results"]) == 1


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class TestCursorPages:
    @pytest.mark.parametrize("value", ["abc", "!!!!", "abcd", "é", _cursor("p=abc"), _cursor("p=1e3"), _cursor("p=-1"),
                                       _cursor(f"p={2**64}"), _cursor("o=5000"), _cursor("o=-1"), _cursor("r=5"),
                                       _cursor("x=1"), _cursor("p=1&p=2"), _cursor("p"), _cursor("p=1") + "!"])
    def test_a_cursor_the_ledger_did_not_give_out_is_400_naming_it(self, auditor_client, value):
        body = refused(auditor_client.get(MOVEMENTS, {"cursor": value}), "cursor")
        assert body["errors"]["cursor"] == [CURSOR_INVALID]

    @pytest.mark.parametrize("value", ["abc", "0", "-1", str(MAX_PAGE_SIZE + 1)])
    def test_a_page_size_outside_1_to_the_maximum_is_400_naming_it(self, auditor_client, value):
        refused(auditor_client.get(MOVEMENTS, {"page_size": value}), "page_size")

    def test_the_cursors_it_gives_out_are_followed_both_ways(self, auditor_client, post, product, bins):
        for _ in range(5):
            post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
        first = auditor_client.get(MOVEMENTS, {"page_size": 2}).json()
        second = auditor_client.get(first["next"]).json()
        assert [m["position"] for m in second["results"]] == [3, 4]
        back = auditor_client.get(second["previous"]).json()
        assert [m["position"] for m in back["results"]] == [1, 2]
        assert auditor_client.get(MOVEMENTS, {"cursor": ""}).status_code == 200  # empty: the first page


# ---------------------------------------------------------------- catalog text

TEXT_FIELDS = [
    ("/api/v1/products/", {"sku": "SKU-1", "name": "Bolt"}, ["sku", "name", "barcode"]),
    ("/api/v1/warehouses/", {"code": "NORTH", "name": "North"}, ["code", "name"]),
    ("/api/v1/locations/", {"code": "A-01", "name": "Aisle A"}, ["code", "name"]),
    ("/api/v1/categories/", {"name": "Tools"}, ["name"]),
]
CASES = [(url, body, field) for url, body, fields in TEXT_FIELDS for field in fields]
BAD_TEXT = {
    "NUL": ("A\u0000B", CONTROL_CHARACTER.format(codepoint="U+0000")),
    "escape": ("A\u001bB", CONTROL_CHARACTER.format(codepoint="U+001B")),
    "tab inside": ("A\tB", CONTROL_CHARACTER.format(codepoint="U+0009")),
    "line break inside": ("A\nB", CONTROL_CHARACTER.format(codepoint="U+000A")),
    "delete": ("AB\u007f", CONTROL_CHARACTER.format(codepoint="U+007F")),
    "C1 control": ("A\u0085B", CONTROL_CHARACTER.format(codepoint="U+0085")),
    "separator at an end": ("\u001fAB", CONTROL_CHARACTER.format(codepoint="U+001F")),
    "unpaired surrogate": ("A\ud800B", UNPAIRED_SURROGATE),
}


def _body(url, body, field, value):
    body = {**body, field: value}
    if url == "/api/v1/locations/":
        body["warehouse"] = WarehouseFactory().pk
    return body


class TestCatalogText:
    @pytest.mark.parametrize("url,body,field", CASES, ids=[f"{u.split('/')[3]}.{f}" for u, _, f in CASES])
    @pytest.mark.parametrize("bad", sorted(BAD_TEXT))
    def test_control_characters_and_surrogates_are_refused_naming_the_field(self, manager_client, url, body, field, bad):
        value, message = BAD_TEXT[bad]
        model = {"products": Product, "warehouses": Warehouse, "locations": Location, "categories": Category}[url.split("/")[3]]
        before = model.objects.count()
        # json.dumps escapes an unpaired surrogate (\\ud800), as a client's JSON encoder would.
        payload = json.dumps(_body(url, body, field, value))
        response = manager_client.post(url, payload, content_type="application/json")
        assert refused(response, field)["errors"] == {field: [message]}
        assert model.objects.count() == before

    @pytest.mark.parametrize("url,body,field", CASES, ids=[f"{u.split('/')[3]}.{f}" for u, _, f in CASES])
    def test_an_update_is_held_to_the_same_rule(self, manager_client, url, body, field):
        created = manager_client.post(url, _body(url, body, field, body.get(field, "X-1")), format="json")
        assert created.status_code == 201, created.json()
        response = manager_client.patch(f"{url}{created.json()['id']}/", {field: "X\u0007"}, format="json")
        refused(response, field)

    @pytest.mark.parametrize("url,body,field", CASES, ids=[f"{u.split('/')[3]}.{f}" for u, _, f in CASES])
    def test_whitespace_around_a_value_is_stripped(self, manager_client, url, body, field):
        response = manager_client.post(url, _body(url, body, field, " \t X 1\u00a0\r\n"), format="json")
        assert response.status_code == 201, response.json()
        assert response.json()[field] == "X 1"

    @pytest.mark.parametrize("url,field", [(PRODUCTS, "specification"), ("/api/v1/warehouses/", "address")])
    def test_long_text_keeps_its_lines_but_no_other_control_character(self, manager_client, url, field):
        body = {"sku": "S-1", "name": "n"} if url == PRODUCTS else {"code": "W", "name": "n"}
        created = manager_client.post(url, {**body, field: "line one\n\tline two\r\n"}, format="json")
        assert created.status_code == 201, created.json()
        assert created.json()[field] == "line one\n\tline two"
        refused(manager_client.post(url, {**body, "sku": "S-2", "code": "W2", field: "a\u001bb"}, format="json"), field)

    def test_printable_unicode_is_kept(self, manager_client):
        response = manager_client.post(PRODUCTS, {"sku": "ÜBER-😀-١", "name": "Schraube \u200d ok"}, format="json")
        assert response.status_code == 201, response.json()
        assert Product.objects.get().sku == "ÜBER-😀-١"


# ---------------------------------------------------------------- form bodies

FORM = "application/x-www-form-urlencoded"


class TestRepeatedFormFields:
    @pytest.mark.parametrize("body,field", [
        ("kind=receipt&kind=issue&product={p}&location={l}&quantity=1", "kind"),
        ("kind=receipt&product={p}&location={l}&quantity=1&quantity=2", "quantity"),
        ("kind=receipt&product={p}&product={p}&location={l}&quantity=1", "product"),
    ])
    def test_a_urlencoded_movement_with_a_field_twice_is_refused(self, clerk_client, product, bins, body, field):
        payload = body.format(p=product.pk, l=bins[0].pk)
        response = clerk_client.generic("POST", MOVEMENTS, payload, content_type=FORM)
        assert refused(response, field)["errors"][field] == [REPEATED]
        assert_ledger_untouched()

    def test_a_multipart_movement_with_a_field_twice_is_refused(self, clerk_client, product, bins):
        body = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": ["1", "2"]}
        response = clerk_client.post(MOVEMENTS, body, format="multipart")
        assert refused(response, "quantity")["errors"] == {"quantity": [REPEATED]}
        assert_ledger_untouched()

    def test_every_field_given_twice_is_named(self, clerk_client, product, bins):
        payload = f"kind=receipt&kind=receipt&product={product.pk}&location={bins[0].pk}&quantity=1&quantity=1"
        response = clerk_client.generic("POST", MOVEMENTS, payload, content_type=FORM)
        assert set(refused(response, "kind")["errors"]) == {"kind", "quantity"}

    def test_a_reversal_form_with_a_field_twice_is_refused(self, clerk_client, post, product, bins):
        movement = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
        response = clerk_client.generic("POST", f"{MOVEMENTS}{movement.pk}/reverse/", "reason=a&reason=b", content_type=FORM)
        refused(response, "reason")
        assert Movement.objects.count() == 1

    @pytest.mark.parametrize("fmt", ["urlencoded", "multipart"])
    def test_a_catalog_form_with_a_field_twice_is_refused(self, manager_client, fmt):
        if fmt == "urlencoded":
            response = manager_client.generic("POST", PRODUCTS, "sku=A&sku=B&name=n", content_type=FORM)
        else:
            response = manager_client.post(PRODUCTS, {"sku": ["A", "B"], "name": "n"}, format="multipart")
        refused(response, "sku")
        assert not Product.objects.exists()

    def test_a_form_with_each_field_once_still_posts(self, clerk_client, manager_client, product, bins):
        payload = f"kind=receipt&product={product.pk}&location={bins[0].pk}&quantity=2.5"
        response = clerk_client.generic("POST", MOVEMENTS, payload, content_type=FORM)
        assert response.status_code == 201, response.json()
        assert response.json()["quantity"] == "2.500"
        multipart = manager_client.post(PRODUCTS, {"sku": "F-1", "name": "form"}, format="multipart")
        assert multipart.status_code == 201, multipart.json()


# ---------------------------------------------------------------- stock as of

class TestAsOf:
    def test_a_product_that_does_not_exist_is_404_naming_it(self, auditor_client, db):
        for params in ({"product": 424242}, {"product": 424242, "position": 0}, {"product": 424242, "at": "2026-01-01T00:00:00Z"}):
            body = refused(auditor_client.get(AS_OF, params), "product", 404, "not_found")
            assert "location" not in body["errors"]

    def test_a_location_that_does_not_exist_is_404_naming_it(self, auditor_client, product):
        body = refused(auditor_client.get(AS_OF, {"product": product.pk, "location": 424242}), "location", 404, "not_found")
        assert list(body["errors"]) == ["location"]

    def test_both_missing_are_both_named(self, auditor_client, db):
        body = refused(auditor_client.get(AS_OF, {"product": 424242, "location": 424243}), "product", 404, "not_found")
        assert set(body["errors"]) == {"product", "location"}

    def test_a_product_with_no_movements_is_zero_not_404(self, auditor_client, product, bins):
        body = auditor_client.get(AS_OF, {"product": product.pk, "location": bins[0].pk}).json()
        assert (body["quantity"], body["balances"]) == ("0.000", [{"location": bins[0].pk, "quantity": "0.000"}])

    def test_without_at_or_position_it_is_now_every_movement_recorded(self, auditor_client, post, product, bins):
        """Now is the ledger's head: every movement recorded so far, whatever its business time
        (one dated a minute ahead, within the clock-skew tolerance, counts as on hand does)."""
        from datetime import timedelta

        from django.utils import timezone

        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="2")
        post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="1",
             occurred_at=(timezone.now() + timedelta(minutes=1)).isoformat())
        body = auditor_client.get(AS_OF, {"product": product.pk}).json()
        assert (body["quantity"], body["position"], body["at"]) == ("6.000", 3, None)
        assert body["balances"] == [{"location": bins[0].pk, "quantity": "3.000"}, {"location": bins[1].pk, "quantity": "3.000"}]
        at_one = auditor_client.get(AS_OF, {"product": product.pk, "location": bins[1].pk, "movements": "true"}).json()
        assert (at_one["quantity"], at_one["movements_count"]) == ("3.000", 2)
        assert "position_until=3" in at_one["movements_url"]

    def test_two_record_bounds_are_400_naming_both(self, auditor_client, product):
        body = refused(auditor_client.get(AS_OF, {"product": product.pk, "position": 1, "recorded_at": "2026-01-01T00:00:00Z"}), "position")
        assert set(body["errors"]) == {"position", "recorded_at"}

    @pytest.mark.parametrize("name,values", [
        ("product", ["1", "2"]), ("at", ["2026-01-01T00:00:00Z"] * 2), ("recorded_at", ["2026-01-01T00:00:00Z"] * 2),
        ("movements", ["true", "false"]),
    ])
    def test_a_parameter_given_twice_is_400_naming_it(self, auditor_client, product, name, values):
        params = {"product": product.pk, name: values}
        assert refused(auditor_client.get(AS_OF, params), name)["errors"][name] == [REPEATED]


# ---------------------------------------------------------------- reversing what is not there

class TestReversingWhatIsNotThere:
    @pytest.mark.parametrize("pk", ["424242", "0", "abc", "-1", str(2**63), str(2**64), "\u0665"])
    def test_is_404_not_found(self, clerk_client, db, pk):
        response = clerk_client.post(f"{MOVEMENTS}{pk}/reverse/", {"reason": "typo"}, format="json")
        body = refused(response, "reverses", 404, "not_found")
        assert body["errors"]["reverses"] == [RecordNotFound.NO_MOVEMENT.format(movement=pk)]
        assert_ledger_untouched()

    def test_a_retry_under_the_same_key_is_still_404(self, clerk_client, db):
        for _ in range(2):
            response = clerk_client.post(f"{MOVEMENTS}424242/reverse/", {}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
            refused(response, "reverses", 404, "not_found")
        assert_ledger_untouched()

    def test_in_a_batch_the_item_is_named(self, clerk, product, bins):
        """Reversals are posted one per request over HTTP; the posting service also takes them in a
        batch (the CSV import's path), where the refusal names the item."""
        from ledger.parsing import parse_movement, parse_reversal
        from ledger.services import movements_post

        requests = [parse_movement({"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"}),
                    parse_reversal({}, movement_id=424242)]
        with pytest.raises(RecordNotFound) as refusal:
            movements_post(user=clerk, movements=requests)
        body = refusal.value.as_dict()
        assert (body["code"], body["item"], list(body["errors"])) == ("not_found", 1, ["reverses"])
        assert_ledger_untouched()


def test_a_known_movement_still_reverses(clerk_client, post, product, bins):
    movement = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="4")
    response = clerk_client.post(f"{MOVEMENTS}{movement.pk}/reverse/", {}, format="json")
    assert response.status_code == 201
    assert Decimal(response.json()["delta"]) == -4
