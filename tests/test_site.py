import pytest

pytestmark = pytest.mark.django_db


def test_schema_and_docs_answer(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/products/" in schema.content
    assert client.get("/api/v1/docs/").status_code == 200


def test_admin_login_page_answers(client):
    assert client.get("/admin/login/").status_code == 200


def test_admin_lists_products_for_a_superuser(admin_client):
    from tests.factories import ProductFactory

    ProductFactory(sku="SEEN-IN-ADMIN")
    response = admin_client.get("/admin/catalog/product/")
    assert response.status_code == 200
    assert b"SEEN-IN-ADMIN" in response.content
