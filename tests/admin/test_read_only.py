"""The ledger and its projections are read in admin, never changed: an attempt is a message and one
log line (not a 403 with a traceback), and the stock lists name SKUs and WAREHOUSE/CODE labels."""
import logging

import pytest

from ledger.admin import MovementAdmin
from ledger.models import Movement
from projections.services import projections_catch_up

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("attempt", ["change", "delete"])
def test_changing_or_deleting_a_movement_is_a_403_that_says_why_and_one_line(admin_client, day, attempt, caplog):
    movement = day[1]
    url = f"/admin/ledger/movement/{movement.pk}/"
    caplog.clear()
    response = admin_client.post(f"{url}{attempt}/", {"reference": "EDITED", "post": "yes"})
    assert response.status_code == 403
    page = response.content.decode()
    assert MovementAdmin.refusal in page
    assert f'href="{url}change/"' in page
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert (record.name, record.exc_info, record.exc_text) == ("common.admin", None, None)
    assert record.getMessage() == f"admin refused to {attempt} movement {movement.pk} for admin: {MovementAdmin.refusal}"
    assert Movement.objects.get(pk=movement.pk).hash == movement.hash
    assert Movement.objects.count() == len(day)


def test_the_add_page_is_refused_the_same_way(admin_client, caplog):
    caplog.clear()
    response = admin_client.get("/admin/ledger/movement/add/")
    assert response.status_code == 403
    assert 'href="/admin/ledger/movement/"' in response.content.decode()
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.exc_info is None and record.getMessage().startswith("admin refused to add movement")


def test_without_view_permission_it_is_still_forbidden(client, day):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    assert client.post(f"/admin/ledger/movement/{day[0].pk}/delete/").status_code == 403


def test_stock_lists_name_skus_and_locations(admin_client, day):
    projections_catch_up()
    for url in (
        "/admin/ledger/stocklevel/", "/admin/projections/productlocationstock/",
        "/admin/projections/productstock/", "/admin/projections/locationstock/",
    ):
        page = admin_client.get(url).content.decode()
        assert ("BOLT-M8" in page) != url.endswith("/locationstock/"), url
        if not url.endswith("/productstock/"):
            assert "MAIN/A-01" in page, url
