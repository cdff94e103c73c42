"""Catalog changes must not rewrite the ledger's history.

Once movements refer to a product its unit is frozen, and once they refer to a location its
warehouse is frozen: refused with a 409 naming the field by the API, read-only (or a form error)
in admin, and refused by the database whoever asks. Deactivating a warehouse stops new movements
at its locations, while corrections stay possible.
"""
import pytest
from django import forms
from django.db import connection, transaction
from django.db.utils import IntegrityError

from catalog.errors import HistoryProtected
from catalog.models import Location, Product
from ledger.models import Movement
from tests.factories import LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
LOCATIONS = "/api/v1/locations/"
MOVEMENTS = "/api/v1/movements/"

PRODUCT_FROZEN = r"catalog_product\.unit is frozen"
LOCATION_FROZEN = r"catalog_location\.warehouse_id is frozen"


@pytest.fixture
def other_warehouse(db):
    return WarehouseFactory(code="NORTH")


@pytest.fixture
def received(post, product, bins):
    """A movement that refers to the product and to bins[0]."""
    return post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")


@pytest.fixture
def transferred(post, received, product, bins):
    """A transfer from bins[0] to bins[1]: bins[1] is referred to only by this movement."""
    return post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="2")


class TestTheApi:
    def test_unit_of_a_product_with_movements_is_a_409_naming_the_field(self, manager_client, product, received):
        name = product.name
        response = manager_client.patch(f"{PRODUCTS}{product.pk}/", {"unit": "kg", "name": "Bolt"}, format="json")
        assert response.status_code == 409
        detail = HistoryProtected.PRODUCT_FIELD["unit"].format(sku="BOLT-M8")
        assert response.json() == {
            "code": "history_protected", "detail": detail, "field": "unit", "errors": {"unit": [detail]},
            "product": product.pk,
        }
        product.refresh_from_db()
        assert (product.unit, product.name) == ("ea", name)

    def test_warehouse_of_a_location_with_movements_is_a_409_naming_the_field(
        self, manager_client, bins, received, other_warehouse
    ):
        response = manager_client.patch(f"{LOCATIONS}{bins[0].pk}/", {"warehouse": other_warehouse.pk}, format="json")
        assert response.status_code == 409
        body = response.json()
        detail = HistoryProtected.LOCATION_WAREHOUSE.format(label="MAIN/A-01")
        assert (body["code"], body["detail"], body["field"]) == ("history_protected", detail, "warehouse")
        assert body["errors"] == {"warehouse": [detail]}
        assert body["location"] == bins[0].pk
        assert Location.objects.get(pk=bins[0].pk).warehouse.code == "MAIN"

    def test_both_ends_of_a_transfer_keep_their_warehouse(self, manager_client, bins, transferred, other_warehouse):
        assert {transferred.location_id, transferred.to_location_id} == {bins[0].pk, bins[1].pk}
        for location in bins[:2]:
            response = manager_client.patch(f"{LOCATIONS}{location.pk}/", {"warehouse": other_warehouse.pk}, format="json")
            assert (response.status_code, response.json()["field"]) == (409, "warehouse")
        moved = Location.objects.filter(pk__in=[b.pk for b in bins[:2]]).exclude(warehouse__code="MAIN")
        assert not moved.exists()

    def test_without_movements_unit_and_warehouse_may_change(self, manager_client, product, bins, other_warehouse):
        assert manager_client.patch(f"{PRODUCTS}{product.pk}/", {"unit": "kg"}, format="json").status_code == 200
        response = manager_client.patch(f"{LOCATIONS}{bins[0].pk}/", {"warehouse": other_warehouse.pk}, format="json")
        assert response.status_code == 200
        assert response.json()["warehouse_code"] == "NORTH"
        assert Product.objects.get(pk=product.pk).unit == "kg"

    def test_the_same_value_again_and_other_fields_may_change(self, manager_client, product, bins, transferred):
        response = manager_client.patch(f"{PRODUCTS}{product.pk}/", {"unit": "ea", "name": "Bolt M8 zinc"}, format="json")
        assert response.status_code == 200, response.json()
        whole = manager_client.get(f"{PRODUCTS}{product.pk}/").json()
        assert manager_client.put(f"{PRODUCTS}{product.pk}/", whole, format="json").status_code == 200
        response = manager_client.patch(
            f"{LOCATIONS}{bins[1].pk}/", {"warehouse": bins[1].warehouse_id, "name": "Dock"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert Product.objects.get(pk=product.pk).name == "Bolt M8 zinc"
        assert Location.objects.get(pk=bins[1].pk).name == "Dock"

    def test_a_movement_arriving_between_the_check_and_the_write_is_still_a_409(
        self, manager_client, product, received, first_history_check_misses
    ):
        """The check before the write can miss a movement committed just after it; the trigger
        does not, and its refusal is answered the same way."""
        calls = first_history_check_misses
        response = manager_client.patch(f"{PRODUCTS}{product.pk}/", {"unit": "kg"}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "history_protected")
        assert len(calls) == 2
        assert Product.objects.get(pk=product.pk).unit == "ea"


def _raw_update_unit(product, *_):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET unit = 'kg' WHERE id = %s", [product.pk])


def _orm_update_unit(product, *_):
    Product.objects.filter(pk=product.pk).update(unit="kg")


def _raw_update_warehouse(location, warehouse):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_location SET warehouse_id = %s WHERE id = %s", [warehouse.pk, location.pk])


def _orm_update_warehouse(location, warehouse):
    Location.objects.filter(pk=location.pk).update(warehouse=warehouse)


class TestTheDatabase:
    """Whoever asks: QuerySet.update(), raw SQL, the shell. An integrity error on both databases."""

    @pytest.mark.parametrize("update", [_orm_update_unit, _raw_update_unit], ids=["queryset", "sql"])
    def test_refuses_a_new_unit_for_a_product_with_movements(self, product, received, update):
        with pytest.raises(IntegrityError, match=PRODUCT_FROZEN):
            with transaction.atomic():
                update(product)
        assert Product.objects.get(pk=product.pk).unit == "ea"

    @pytest.mark.parametrize("update", [_orm_update_warehouse, _raw_update_warehouse], ids=["queryset", "sql"])
    @pytest.mark.parametrize("leg", [0, 1], ids=["location", "to_location"])
    def test_refuses_a_new_warehouse_for_a_location_with_movements(self, bins, transferred, other_warehouse, update, leg):
        location = Location.objects.get(pk=(transferred.location_id, transferred.to_location_id)[leg])
        if leg:  # referred to only as a destination: the trigger's second probe finds it
            assert not Movement.objects.filter(location=location).exists()
        with pytest.raises(IntegrityError, match=LOCATION_FROZEN):
            with transaction.atomic():
                update(location, other_warehouse)
        assert Location.objects.get(pk=location.pk).warehouse.code == "MAIN"

    def test_lets_through_the_same_value_other_columns_and_records_without_movements(
        self, product, bins, received, other_warehouse
    ):
        Product.objects.filter(pk=product.pk).update(unit="ea", name="Bolt M8 zinc")
        product.refresh_from_db()
        product.reorder_point = 10
        product.save()  # a save writes every column, the unit among them
        Location.objects.filter(pk=bins[0].pk).update(warehouse=bins[0].warehouse, name="Dock")
        bins[0].refresh_from_db()
        bins[0].save()
        unused = ProductFactory(sku="UNUSED")
        Product.objects.filter(pk=unused.pk).update(unit="kg")
        Location.objects.filter(pk=bins[2].pk).update(warehouse=other_warehouse)
        assert Product.objects.get(pk=unused.pk).unit == "kg"
        assert Location.objects.get(pk=bins[2].pk).warehouse == other_warehouse
        assert Product.objects.get(pk=product.pk).name == "Bolt M8 zinc"


def _posted_back(response) -> dict:
    """The admin change form's current values, as a browser would post them back."""
    data: dict = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            else:
                data[key] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def _change_url(record) -> str:
    return f"/admin/catalog/{record._meta.model_name}/{record.pk}/change/"


class TestAdmin:
    def test_unit_is_read_only_once_movements_refer_to_the_product(self, admin_client, product, received):
        page = admin_client.get(_change_url(product))
        assert page.status_code == 200
        assert "unit" not in page.context["adminform"].form.fields
        assert b'name="unit"' not in page.content
        data = _posted_back(page) | {"unit": "kg", "name": "Bolt M8 zinc"}
        response = admin_client.post(_change_url(product), data)
        assert response.status_code == 302
        product.refresh_from_db()
        assert (product.unit, product.name) == ("ea", "Bolt M8 zinc")

    def test_warehouse_is_read_only_once_movements_refer_to_the_location(
        self, admin_client, bins, transferred, other_warehouse
    ):
        page = admin_client.get(_change_url(bins[1]))
        assert page.status_code == 200
        assert "warehouse" not in page.context["adminform"].form.fields
        response = admin_client.post(_change_url(bins[1]), _posted_back(page) | {"warehouse": other_warehouse.pk})
        assert response.status_code == 302
        assert Location.objects.get(pk=bins[1].pk).warehouse.code == "MAIN"

    def test_without_movements_unit_and_warehouse_are_editable(self, admin_client, product, bins, other_warehouse):
        page = admin_client.get(_change_url(product))
        assert "unit" in page.context["adminform"].form.fields
        assert admin_client.post(_change_url(product), _posted_back(page) | {"unit": "kg"}).status_code == 302
        page = admin_client.get(_change_url(bins[0]))
        assert admin_client.post(_change_url(bins[0]), _posted_back(page) | {"warehouse": other_warehouse.pk}).status_code == 302
        assert Product.objects.get(pk=product.pk).unit == "kg"
        assert Location.objects.get(pk=bins[0].pk).warehouse == other_warehouse

    def test_a_change_attempted_anyway_is_a_form_error(self, admin_client, product, bins, monkeypatch, post):
        """The page was shown before the first movement (unit editable); the change is then a form error."""
        monkeypatch.setattr("catalog.admin.frozen_fields", lambda *, record: ())
        page = admin_client.get(_change_url(product))
        assert "unit" in page.context["adminform"].form.fields
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        response = admin_client.post(_change_url(product), _posted_back(page) | {"unit": "kg"})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["unit"] == [HistoryProtected.PRODUCT_FIELD["unit"].format(sku="BOLT-M8")]
        assert Product.objects.get(pk=product.pk).unit == "ea"

    def test_the_warehouse_inline_edits_locations_but_cannot_move_one(
        self, admin_client, warehouse, bins, received, other_warehouse
    ):
        page = admin_client.get(_change_url(warehouse))
        assert page.status_code == 200
        data = _posted_back(page)
        first = next(k for k, v in data.items() if k.endswith("-id") and v == bins[0].pk)
        data[first.replace("-id", "-name")] = "Receiving"
        assert admin_client.post(_change_url(warehouse), data).status_code == 302
        assert Location.objects.get(pk=bins[0].pk).name == "Receiving"
        # Claim bins[0] in the other warehouse's inline: Django ignores a row that is not the
        # warehouse's own, so the location stays where it is and nothing is created.
        page = admin_client.get(_change_url(other_warehouse))
        data = _posted_back(page)
        prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("TOTAL_FORMS")
        data |= {
            f"{prefix}TOTAL_FORMS": 1, f"{prefix}INITIAL_FORMS": 1, f"{prefix}0-id": bins[0].pk,
            f"{prefix}0-warehouse": other_warehouse.pk, f"{prefix}0-code": "A-01", f"{prefix}0-is_active": "on",
        }
        assert admin_client.post(_change_url(other_warehouse), data).status_code == 302
        assert Location.objects.get(pk=bins[0].pk).warehouse == warehouse
        assert Location.objects.filter(code="A-01").count() == 1


class TestDeactivatedWarehouse:
    """An inactive warehouse takes no new movements at any of its locations; reversals stay possible."""

    def _receipt(self, product, location):
        return {"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": "5"}

    def test_through_the_api(self, manager_client, clerk_client, product, warehouse, bins, other_warehouse):
        earlier = clerk_client.post(MOVEMENTS, self._receipt(product, bins[0]), format="json")
        assert earlier.status_code == 201
        elsewhere = LocationFactory(warehouse=other_warehouse, code="N-01")
        assert clerk_client.post(MOVEMENTS, self._receipt(product, elsewhere), format="json").status_code == 201

        response = manager_client.patch(f"/api/v1/warehouses/{warehouse.pk}/", {"is_active": False}, format="json")
        assert response.status_code == 200
        issue = {"kind": "issue", "product": product.pk, "location": bins[0].pk, "quantity": "1"}
        refused = clerk_client.post(MOVEMENTS, issue, format="json")
        assert (refused.status_code, refused.json().get("code")) == (400, "inactive_location")
        assert refused.json()["location"] == bins[0].pk
        into = {"kind": "transfer", "product": product.pk, "from_location": elsewhere.pk, "to_location": bins[1].pk}
        refused = clerk_client.post(MOVEMENTS, into | {"quantity": "1"}, format="json")
        assert (refused.status_code, refused.json().get("code")) == (400, "inactive_location")
        assert Movement.objects.count() == 2

        reversal = clerk_client.post(f"{MOVEMENTS}{earlier.json()['id']}/reverse/", {}, format="json")
        assert reversal.status_code == 201, reversal.json()
        assert clerk_client.post(MOVEMENTS, self._receipt(product, elsewhere), format="json").status_code == 201

        manager_client.patch(f"/api/v1/warehouses/{warehouse.pk}/", {"is_active": True}, format="json")
        assert clerk_client.post(MOVEMENTS, self._receipt(product, bins[0]), format="json").status_code == 201

    def test_through_the_admin_action(self, admin_client, clerk_client, product, warehouse, bins):
        earlier = clerk_client.post(MOVEMENTS, self._receipt(product, bins[2]), format="json")
        assert earlier.status_code == 201
        response = admin_client.post(
            "/admin/catalog/warehouse/", {"action": "deactivate", "_selected_action": [warehouse.pk]}
        )
        assert response.status_code == 302
        warehouse.refresh_from_db()
        assert warehouse.is_active is False
        refused = clerk_client.post(MOVEMENTS, self._receipt(product, bins[2]), format="json")
        assert (refused.status_code, refused.json().get("code")) == (400, "inactive_location")
        reversal = clerk_client.post(f"{MOVEMENTS}{earlier.json()['id']}/reverse/", {}, format="json")
        assert reversal.status_code == 201, reversal.json()
