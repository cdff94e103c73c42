"""History in admin: a product's page shows its changes (who, when, before -> after), read-only;
auditors read the history lists and can change nothing there."""
import pytest
from django.contrib.auth.models import Permission

from history.models import EVENT_MODELS, ProductEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_products_page_shows_its_history_with_who_and_before_and_after(admin_client, admin_user, product):
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", {
        "sku": product.sku, "name": product.name, "unit": product.unit, "unit_price": "3.75", "reorder_point": "0", "tracking": "none", "lead_time_days": "7", "pack_size": "1", "valuation_method": "average",
        "is_active": "on", "specification": "",
    }, HTTP_X_REQUEST_ID="admin-req-7")
    assert response.status_code == 302, response.content.decode()[:2000]
    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert "Changes, newest first" in page
    assert "2.5000 → 3.7500" in page
    assert f"{admin_user.username}: POST /admin/catalog/product/{product.pk}/change/ (request admin-req-7)" in page
    assert 'name="change_history"' not in page  # shown, never an input


def test_the_history_is_shown_only_to_who_may_read_it(client, product):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_product"))
    client.force_login(staff)
    page = client.get(f"/admin/catalog/product/{product.pk}/change/")
    assert page.status_code == 200 and "Changes, newest first" not in page.content.decode()


@pytest.fixture
def auditor_in_admin(client, auditor):
    auditor.is_staff = True
    auditor.save()
    client.force_login(auditor)
    return client


def test_auditors_read_the_history_lists(auditor_in_admin, product):
    for event_model in EVENT_MODELS:
        assert auditor_in_admin.get(f"/admin/history/{event_model._meta.model_name}/").status_code == 200
    page = auditor_in_admin.get("/admin/history/productevent/").content.decode()
    assert "BOLT-M8" in page and "outside the application" in page  # the fixture's product: no request


def test_an_event_can_be_neither_changed_nor_deleted_in_admin(auditor_in_admin, admin_client, product):
    event = ProductEvent.objects.get(pgh_obj_id=product.pk)
    for client in (auditor_in_admin, admin_client):
        assert client.post(f"/admin/history/productevent/{event.pk}/change/", {"name": "x"}).status_code == 403
        assert client.post(f"/admin/history/productevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get("/admin/history/productevent/add/").status_code == 403
    assert ProductEvent.objects.get(pk=event.pk).name == product.name
