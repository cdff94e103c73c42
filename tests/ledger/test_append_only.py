"""Nothing in the ledger is ever updated or deleted: not by the ORM, not by admin, not by SQL."""
import pytest
from django.db import DatabaseError, connection, transaction

from ledger.models import ImmutableError, Movement

pytestmark = pytest.mark.django_db


@pytest.fixture
def movement(post, product, bins):
    return post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")


def test_saving_an_existing_movement_raises(movement):
    movement.reason = "edited"
    with pytest.raises(ImmutableError):
        movement.save()


def test_deleting_a_movement_raises(movement):
    with pytest.raises(ImmutableError):
        movement.delete()


def test_queryset_update_and_delete_raise(movement):
    with pytest.raises(ImmutableError):
        Movement.objects.filter(pk=movement.pk).update(reason="edited")
    with pytest.raises(ImmutableError):
        Movement.objects.all().delete()
    assert Movement.objects.get(pk=movement.pk).reason == ""


def test_products_with_movements_cannot_be_deleted(movement, product):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        product.delete()


@pytest.mark.parametrize("statement", ["UPDATE ledger_movement SET reason = 'x'", "DELETE FROM ledger_movement"])
def test_the_database_refuses_raw_update_and_delete(movement, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert Movement.objects.get(pk=movement.pk).reason == ""


@pytest.mark.postgres
def test_postgres_refuses_truncate(movement):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle this test's own pending FK checks
            cursor.execute("TRUNCATE ledger_movement CASCADE")
    assert Movement.objects.filter(pk=movement.pk).exists()


class TestAdminIsReadOnly:
    def test_admin_shows_the_ledger(self, admin_client, movement):
        response = admin_client.get("/admin/ledger/movement/")
        assert response.status_code == 200
        assert b"receipt" in response.content

    def test_admin_cannot_add_change_or_delete(self, admin_client, movement):
        assert admin_client.get("/admin/ledger/movement/add/").status_code == 403
        response = admin_client.post(f"/admin/ledger/movement/{movement.pk}/change/", {"reason": "edited"})
        assert response.status_code == 403
        assert admin_client.post(f"/admin/ledger/movement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
        assert Movement.objects.get(pk=movement.pk).reason == ""
