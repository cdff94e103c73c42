from decimal import Decimal

import pytest

from catalog.models import Category, Location, Product
from tests.factories import CategoryFactory, LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def product_body(**overrides):
    body = {"sku": "BOLT-M8", "name": "Bolt M8", "unit": "ea", "unit_price": "0.1200"}
    body.update(overrides)
    return body


class TestPermissions:
    def test_anonymous_is_refused_with_401(self, anonymous_client):
        response = anonymous_client.get(PRODUCTS)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"

    @pytest.mark.parametrize("role", ["clerk", "auditor", "finance", "manager"])
    def test_every_role_reads_the_catalog(self, request, role):
        ProductFactory()
        response = request.getfixturevalue(f"{role}_client").get(PRODUCTS)
        assert response.status_code == 200
        assert response.json()["count"] == 1

    def test_manager_creates_and_updates_products(self, manager_client):
        created = manager_client.post(PRODUCTS, product_body(), format="json")
        assert created.status_code == 201, created.json()
        url = f"{PRODUCTS}{created.json()['id']}/"
        updated = manager_client.patch(url, {"unit_price": "0.1500", "is_active": False}, format="json")
        assert updated.status_code == 200
        product = Product.objects.get(sku="BOLT-M8")
        assert product.unit_price == Decimal("0.15")
        assert product.is_active is False

    @pytest.mark.parametrize("role", ["clerk", "auditor", "finance"])
    def test_other_roles_cannot_write_the_catalog(self, request, role):
        client = request.getfixturevalue(f"{role}_client")
        response = client.post(PRODUCTS, product_body(), format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        product = ProductFactory()
        response = client.patch(f"{PRODUCTS}{product.pk}/", {"name": "x"}, format="json")
        assert response.status_code == 403
        assert not Product.objects.filter(sku="BOLT-M8").exists()

    def test_user_without_a_role_cannot_read(self, client_for):
        from tests.factories import UserFactory

        response = client_for(UserFactory()).get(PRODUCTS)
        assert response.status_code == 403

    def test_products_are_never_deleted_through_the_api(self, manager_client):
        product = ProductFactory()
        response = manager_client.delete(f"{PRODUCTS}{product.pk}/")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
        assert Product.objects.filter(pk=product.pk).exists()


class TestValidation:
    def test_duplicate_sku_is_a_409_naming_the_field(self, manager_client):
        ProductFactory(sku="BOLT-M8")
        response = manager_client.post(PRODUCTS, product_body(), format="json")
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "already_exists"
        assert "sku" in body["errors"]
        assert Product.objects.filter(sku="BOLT-M8").count() == 1

    @pytest.mark.parametrize("price", ["-1", "abc", "1.123456", "1e999", ""])
    def test_bad_price_is_a_400_naming_the_field(self, manager_client, price):
        response = manager_client.post(PRODUCTS, product_body(unit_price=price), format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["unit_price"]
        assert not Product.objects.exists()

    def test_unknown_category_is_not_found_naming_the_field(self, manager_client):
        response = manager_client.post(PRODUCTS, product_body(category=999999), format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert list(response.json()["errors"]) == ["category"]

    def test_duplicate_barcode_is_refused_and_empty_barcode_means_none(self, manager_client):
        ProductFactory(barcode="4006381333931")
        clash = manager_client.post(PRODUCTS, product_body(barcode="4006381333931"), format="json")
        assert (clash.status_code, clash.json()["code"]) == (409, "already_exists")
        assert "barcode" in clash.json()["errors"]
        first = manager_client.post(PRODUCTS, product_body(sku="A", barcode=""), format="json")
        second = manager_client.post(PRODUCTS, product_body(sku="B", barcode=""), format="json")
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json()["barcode"] is None

    def test_missing_fields_are_named(self, manager_client):
        response = manager_client.post(PRODUCTS, {}, format="json")
        assert response.status_code == 400
        assert {"sku", "name"} <= set(response.json()["errors"])

    def test_malformed_json_is_a_400(self, manager_client):
        response = manager_client.generic("POST", PRODUCTS, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "malformed_request"

    def test_duplicate_location_code_in_one_warehouse_is_refused(self, manager_client):
        location = LocationFactory(code="A-01")
        body = {"warehouse": location.warehouse_id, "code": "A-01"}
        response = manager_client.post("/api/v1/locations/", body, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "already_exists"
        other = WarehouseFactory()
        response = manager_client.post("/api/v1/locations/", {**body, "warehouse": other.pk}, format="json")
        assert response.status_code == 201
        assert Location.objects.filter(code="A-01").count() == 2

    def test_category_cannot_become_its_own_ancestor(self, manager_client):
        root = CategoryFactory()
        child = CategoryFactory(parent=root)
        response = manager_client.patch(f"/api/v1/categories/{root.pk}/", {"parent": child.pk}, format="json")
        assert response.status_code == 400
        assert "parent" in response.json()["errors"]

    def test_a_category_under_itself_is_a_400_even_where_its_name_is_taken(self, manager_client):
        """The cycle is named before the (parent, name) uniqueness, which would answer 409."""
        tools = CategoryFactory(name="Tools")
        CategoryFactory(name="Tools", parent=tools)
        response = manager_client.patch(f"/api/v1/categories/{tools.pk}/", {"parent": tools.pk}, format="json")
        assert (response.status_code, response.json()["errors"]) == (400, {"parent": [Category.CYCLE_MESSAGE]})


class TestFiltersAndPagination:
    def test_filter_by_sku_and_barcode(self, clerk_client):
        ProductFactory(sku="A-1", barcode="111")
        ProductFactory(sku="A-2", barcode="222")
        assert [p["sku"] for p in clerk_client.get(PRODUCTS, {"sku": "A-2"}).json()["results"]] == ["A-2"]
        assert [p["sku"] for p in clerk_client.get(PRODUCTS, {"barcode": "111"}).json()["results"]] == ["A-1"]

    def test_filter_by_category_includes_subcategories(self, clerk_client):
        tools = CategoryFactory(name="Tools")
        drills = CategoryFactory(name="Drills", parent=tools)
        ProductFactory(sku="HAMMER", category=tools)
        ProductFactory(sku="DRILL", category=drills)
        ProductFactory(sku="SOAP")
        skus = {p["sku"] for p in clerk_client.get(PRODUCTS, {"category": tools.pk}).json()["results"]}
        assert skus == {"HAMMER", "DRILL"}
        skus = {p["sku"] for p in clerk_client.get(PRODUCTS, {"category": drills.pk}).json()["results"]}
        assert skus == {"DRILL"}

    def test_filter_by_active(self, clerk_client):
        ProductFactory(sku="ON")
        ProductFactory(sku="OFF", is_active=False)
        skus = [p["sku"] for p in clerk_client.get(PRODUCTS, {"is_active": "false"}).json()["results"]]
        assert skus == ["OFF"]

    def test_search_and_ordering(self, clerk_client):
        ProductFactory(sku="X-1", name="Red paint", unit_price=Decimal("5"))
        ProductFactory(sku="X-2", name="Blue paint", unit_price=Decimal("3"))
        ProductFactory(sku="X-3", name="Brush")
        found = clerk_client.get(PRODUCTS, {"search": "paint", "ordering": "-unit_price"}).json()["results"]
        assert [p["sku"] for p in found] == ["X-1", "X-2"]

    def test_pagination_with_page_size(self, clerk_client):
        for _ in range(7):
            ProductFactory()
        page = clerk_client.get(PRODUCTS, {"page_size": 3, "page": 3}).json()
        assert page["count"] == 7
        assert len(page["results"]) == 1
        assert page["next"] is None and page["previous"] is not None

    def test_a_category_filter_naming_no_category_finds_nothing(self, clerk_client):
        ProductFactory()
        response = clerk_client.get(PRODUCTS, {"category": 424242})
        assert (response.status_code, response.json()["results"]) == (200, [])

    def test_locations_filter_by_warehouse_code(self, clerk_client):
        LocationFactory(warehouse=WarehouseFactory(code="NORTH"), code="N-1")
        LocationFactory(warehouse=WarehouseFactory(code="SOUTH"), code="S-1")
        found = clerk_client.get("/api/v1/locations/", {"warehouse_code": "NORTH"}).json()["results"]
        assert [(loc["warehouse_code"], loc["code"]) for loc in found] == [("NORTH", "N-1")]


def test_deactivation_reaches_posting_at_once(manager_client, clerk_client, product, bins):
    """Posting remembers the catalog; a change through the API must not be missed."""
    body = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"}
    assert clerk_client.post("/api/v1/movements/", body, format="json").status_code == 201
    manager_client.patch(f"{PRODUCTS}{product.pk}/", {"is_active": False}, format="json")
    refused = clerk_client.post("/api/v1/movements/", body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "inactive_product")
    manager_client.patch(f"/api/v1/locations/{bins[1].pk}/", {"is_active": False}, format="json")
    manager_client.patch(f"{PRODUCTS}{product.pk}/", {"is_active": True}, format="json")
    refused = clerk_client.post("/api/v1/movements/", {**body, "location": bins[1].pk}, format="json")
    assert refused.json()["code"] == "inactive_location"


@pytest.mark.parametrize("how", ["create", "rename"])
def test_a_second_top_level_category_with_a_taken_name_is_409(manager_client, db, how):
    from catalog.models import Category

    Category.objects.create(name="Paint")
    if how == "create":
        response = manager_client.post("/api/v1/categories/", {"name": "Paint"}, format="json")
    else:
        other = Category.objects.create(name="Tools")
        response = manager_client.patch(f"/api/v1/categories/{other.pk}/", {"name": "Paint"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "already_exists")
    assert response.json()["errors"] == {"name": [Category.ROOT_NAME_TAKEN]}
    assert Category.objects.filter(name="Paint").count() == 1
