"""A product's, location's or warehouse's page leads to its movements and stock; a refused change is a
message and one log line, never a traceback."""
import logging

import pytest

from catalog.errors import HistoryProtected
from catalog.models import Product
from tests.catalog.test_history_guard import _change_url, _posted_back

pytestmark = pytest.mark.django_db


def _positions(admin_client, url: str) -> list[int]:
    response = admin_client.get(url)
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


class TestLinks:
    def test_a_products_page_links_to_its_movements_and_stock(self, admin_client, day, product):
        page = admin_client.get(_change_url(product)).content.decode()
        movements = f"/admin/ledger/movement/?product={product.pk}"
        for url in (movements, f"/admin/ledger/stocklevel/?product={product.pk}", f"/api/v1/stock/?product={product.pk}"):
            assert f'href="{url}"' in page
        assert _positions(admin_client, movements) == [m.position for m in reversed(day) if m.product_id == product.pk]
        levels = admin_client.get(f"/admin/ledger/stocklevel/?product={product.pk}").content.decode()
        assert "BOLT-M8" in levels and "NUT-M8" not in levels and "MAIN/A-02" in levels

    def test_a_locations_page_links_to_its_movements_on_either_leg(self, admin_client, day, bins):
        page = admin_client.get(_change_url(bins[1])).content.decode()
        url = f"/admin/ledger/movement/?location={bins[1].pk}"
        assert f'href="{url}"' in page
        transfer, reversal = day[1], day[2]
        assert _positions(admin_client, url) == [reversal.position, transfer.position]

    def test_a_warehouses_page_links_to_its_movements(self, admin_client, day, warehouse):
        page = admin_client.get(_change_url(warehouse)).content.decode()
        assert f'href="/admin/ledger/movement/?warehouse={warehouse.pk}"' in page

    def test_links_only_to_what_the_user_may_see(self, client, manager, day, product):
        manager.is_staff = True
        manager.save()
        client.force_login(manager)
        page = client.get(_change_url(product)).content.decode()
        assert f"/admin/ledger/movement/?product={product.pk}" in page  # managers read the ledger
        manager.groups.clear()
        manager.user_permissions.add(*manager.user_permissions.model.objects.filter(codename__in=["view_product", "change_product"]))
        page = client.get(_change_url(product)).content.decode()
        assert "/admin/ledger/movement/?" not in page and "/api/v1/stock/?" not in page

    def test_deleting_a_product_with_history_names_it_instead_of_listing_its_movements(self, admin_client, day, product):
        page = admin_client.get(f"/admin/catalog/product/{product.pk}/delete/").content.decode()
        assert "BOLT-M8" in page and "movements in the ledger refer to it; deactivate it instead" in page
        assert "Movement:" not in page
        assert admin_client.post(f"/admin/catalog/product/{product.pk}/delete/", {"post": "yes"}).status_code == 200
        assert Product.objects.filter(pk=product.pk).exists()


def _warnings(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


class TestARefusedChange:
    def test_a_movement_arriving_after_every_check_is_refused_by_the_database_as_a_message_and_one_line(
        self, admin_client, product, day, monkeypatch, caplog, first_history_check_misses
    ):
        """The page and the form saw no movement (the first checks miss it); the database's trigger
        refuses the write, and the answer is the refusal, not a 500 with a traceback."""
        monkeypatch.setattr("catalog.admin.frozen_fields", lambda *, record: ())
        monkeypatch.setattr("catalog.admin.refuse_history_rewrite", lambda **kwargs: None)
        calls = first_history_check_misses
        name = product.name
        page = admin_client.get(_change_url(product))
        assert "unit" in page.context["adminform"].form.fields
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = admin_client.post(_change_url(product), _posted_back(page) | {"unit": "kg", "name": "Bolt"})
        assert response.status_code == 302
        assert response["Location"] == _change_url(product)
        refusal = HistoryProtected.PRODUCT_FIELD["unit"].format(sku="BOLT-M8")
        [record] = _warnings(caplog)
        assert (record.name, record.exc_info, record.exc_text) == ("catalog.admin", None, None)
        assert refusal in record.getMessage() and "\n" not in record.getMessage()
        assert len(calls) == 2
        assert [str(m) for m in admin_client.get(response["Location"]).context["messages"]] == [refusal]
        assert Product.objects.values_list("unit", "name").get(pk=product.pk) == ("ea", name)  # none of the change

    def test_a_change_the_form_refuses_is_a_form_error_and_one_line(self, admin_client, product, bins, post, monkeypatch, caplog):
        monkeypatch.setattr("catalog.admin.frozen_fields", lambda *, record: ())
        page = admin_client.get(_change_url(product))
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
        caplog.clear()
        response = admin_client.post(_change_url(product), _posted_back(page) | {"unit": "kg"})
        assert response.status_code == 200
        refusal = HistoryProtected.PRODUCT_FIELD["unit"].format(sku="BOLT-M8")
        assert response.context["adminform"].form.errors["unit"] == [refusal]
        [record] = _warnings(caplog)
        assert (record.name, record.exc_info) == ("catalog.admin", None)
        assert refusal in record.getMessage()
