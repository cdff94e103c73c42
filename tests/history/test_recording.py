"""What the triggers record: roles and user flags, tokens without their key, a command's name,
raw SQL from another connection; and that history is never changed, deleted or cascaded away."""
import json

import psycopg2
import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from rest_framework.authtoken.models import Token

from accounts.roles import CLERK
from history.context import command_recorded, recording
from history.models import AppendOnlyError, ProductEvent, TokenEvent, UserEvent
from history.selectors import history_events, history_page
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def _changes(**filters):
    return history_page(list(history_events(**filters)))


def test_a_role_given_and_taken_and_a_flag_changed_are_recorded_with_who(manager):
    user = UserFactory()
    with recording(lambda: {"user": manager.pk, "username": manager.username}):
        user.groups.add(Group.objects.get(name=CLERK))
        user.groups.remove(Group.objects.get(name=CLERK))
        user.is_staff = True
        user.save()
    removed, added = _changes(model="role", object_id=user.pk)
    clerk = Group.objects.get(name=CLERK).pk
    assert (added.event, added.changes["group"]) == ("insert", {"before": None, "after": clerk})
    assert (removed.event, removed.changes["group"]) == ("delete", {"before": clerk, "after": None})
    staff = _changes(model="user", object_id=user.pk, event="update")[0]
    assert staff.changes == {"is_staff": {"before": False, "after": True}}
    assert staff.context["user"] == manager.pk and added.context_id == staff.context_id


def test_a_login_is_no_change_of_the_user():
    user = UserFactory()
    before = UserEvent.objects.filter(pgh_obj_id=user.pk).count()
    user.set_password("another-pass-456")
    user.save()
    from django.contrib.auth.models import update_last_login

    update_last_login(None, user)
    assert UserEvent.objects.filter(pgh_obj_id=user.pk).count() == before


def test_a_token_created_rotated_and_deleted_is_recorded_without_its_key(auditor_client, clerk):
    first = Token.objects.create(user=clerk)
    keys = [first.key]
    with recording(lambda: {"user": clerk.pk}), transaction.atomic():  # a rotation: the old one deleted, a new one made
        first.delete()
        keys.append(Token.objects.create(user=clerk).key)
    Token.objects.filter(pk=keys[1]).delete()
    created, deleted_first, made_second, deleted_second = TokenEvent.objects.filter(user=clerk).order_by("pgh_id")
    assert [e.pgh_label for e in (created, deleted_first, made_second, deleted_second)] == ["insert", "delete", "insert", "delete"]
    assert deleted_first.pgh_context_id == made_second.pgh_context_id != deleted_second.pgh_context_id
    stored = json.dumps(list(TokenEvent.objects.values()), default=str)
    assert all(key not in stored for key in keys)
    listed = auditor_client.get("/api/v1/history/", {"model": "token", "object": clerk.pk}).content.decode()
    assert all(key not in listed for key in keys) and listed.count('"event":"insert"') == 2
    assert not any("key" in f.name for f in TokenEvent._meta.fields)


def test_a_commands_changes_carry_its_name_and_nothing_of_its_arguments():
    with command_recorded(["manage.py", "seed_demo", "--password=secret"]):
        product = ProductFactory()
    [insert] = ProductEvent.objects.filter(pgh_obj_id=product.pk)
    assert insert.pgh_context == {"command": "seed_demo"}


def test_history_rows_refuse_the_orm(product):
    event = ProductEvent.objects.filter(pgh_obj_id=product.pk).get()
    with pytest.raises(AppendOnlyError):
        ProductEvent.objects.filter(pk=event.pk).update(name="rewritten")
    with pytest.raises(AppendOnlyError):
        ProductEvent.objects.filter(pk=event.pk).delete()
    event.name = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert ProductEvent.objects.get(pk=event.pk).name == product.name


@pytest.mark.parametrize("statement", [
    "UPDATE history_productevent SET name = 'rewritten' WHERE pgh_obj_id = %s",
    "DELETE FROM history_productevent WHERE pgh_obj_id = %s",
])
def test_history_rows_refuse_raw_sql(product, statement):
    with pytest.raises(DatabaseError, match="append-only|Cannot"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [product.pk])
    assert ProductEvent.objects.filter(pgh_obj_id=product.pk, name=product.name).count() == 1


def test_a_deleted_record_keeps_its_history():
    product = ProductFactory()
    product_id = product.pk
    product.delete()
    assert [e.pgh_label for e in ProductEvent.objects.filter(pgh_obj_id=product_id).order_by("pgh_id")] == ["insert", "delete"]


def test_the_posting_path_is_not_touched(post, product, bins):
    """Statements that name no tracked table run as they are, in a request's context too."""
    executed = []
    with recording(lambda: executed.append("described") or {}):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
    assert executed == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles (groups) come back after
def test_a_price_changed_by_raw_sql_from_another_connection_shows_in_the_history(auditor_client):
    product = ProductFactory(unit_price="2.5")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg2.connect(**params)
    try:
        with other, other.cursor() as cursor:
            cursor.execute("UPDATE catalog_product SET unit_price = 9.99 WHERE id = %s", [product.pk])
    finally:
        other.close()
    latest = auditor_client.get(f"/api/v1/products/{product.pk}/history/").json()["results"][0]
    assert latest["changes"] == {"unit_price": {"before": "2.5000", "after": "9.9900"}}
    assert latest["user"] is None and latest["context"] is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles (groups) come back after
def test_the_test_flush_leaves_no_history_behind():
    """The flush that ends a transactional test empties the history too (it runs past the triggers)."""
    ProductFactory()
    assert ProductEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles (groups) come back after
def test_after_a_flush_nothing_is_left_and_the_triggers_are_back():
    assert not ProductEvent.objects.exists()
    ProductFactory()
    assert ProductEvent.objects.count() == 1
    with pytest.raises(DatabaseError):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM history_productevent")


def test_a_request_inside_a_command_is_recorded_as_the_request(auditor_client, manager, manager_client, product):
    """``manage.py runserver --nothreading`` serves requests inside the command's context."""
    with command_recorded(["manage.py", "runserver"]):
        manager_client.patch(f"/api/v1/products/{product.pk}/", {"name": "Bolt"})
        product.refresh_from_db()
        product.reorder_point = 5
        product.save()
    by_command, by_request = _changes(model="product", object_id=product.pk, event="update")
    assert by_request.context["user"] == manager.pk and by_request.changes["name"]["after"] == "Bolt"
    assert by_command.context == {"command": "runserver"} and "reorder_point" in by_command.changes


@pytest.mark.parametrize("statement", [
    "UPDATE catalog_product SET unit_price = 7 WHERE id = %s",
    "WITH chosen AS (SELECT %s AS id) UPDATE catalog_product SET unit_price = 7 WHERE id IN (SELECT id FROM chosen)",
])
def test_the_applications_own_sql_is_recorded_with_its_context(product, statement):
    with recording(lambda: {"command": "repricing"}), connection.cursor() as cursor:
        cursor.execute(statement, [product.pk])
    [update] = _changes(model="product", object_id=product.pk, event="update")
    assert update.context == {"command": "repricing"} and update.changes["unit_price"]["after"] == "7.0000"
