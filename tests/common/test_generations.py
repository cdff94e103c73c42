"""Remembered credentials and catalog facts are dropped in every process within a second of a
committed change, whatever made it: the database moves the counter, not the code that changed."""
import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from accounts.authentication import credentials
from catalog.models import Product
from catalog.selectors import catalog_changes
from common.models import Generation

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def a_second_later(generation):
    """What another process sees once its interval has passed."""
    generation._seen_at -= generation.interval + 0.1


def counter(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM common_generation WHERE name = %s", [name])
        return cursor.fetchone()[0]


def test_a_user_deactivated_by_a_bulk_update_is_refused_after_the_interval(clerk_client, clerk):
    assert clerk_client.get(URL).status_code == 200
    User.objects.filter(pk=clerk.pk).update(is_active=False)  # no signal: only the database knows
    a_second_later(credentials)
    assert clerk_client.get(URL).status_code == 401


@pytest.mark.parametrize("sql, refused", [
    ("DELETE FROM auth_user_groups WHERE user_id = %s", 403),
    ("DELETE FROM authtoken_token WHERE user_id = %s", 401),
])
def test_a_revocation_by_raw_sql_is_refused_after_the_interval(clerk_client, clerk, sql, refused):
    assert clerk_client.get(URL).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(sql, [clerk.pk])
    a_second_later(credentials)
    assert clerk_client.get(URL).status_code == refused


def test_a_login_does_not_drop_the_remembered_credentials(clerk):
    before = counter("auth")
    User.objects.filter(pk=clerk.pk).update(last_login="2026-01-01T00:00:00Z")
    assert counter("auth") == before


def test_a_product_deactivated_by_a_bulk_update_takes_no_movements_after_the_interval(clerk_client, product, bins):
    body = {"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"}
    assert clerk_client.post("/api/v1/movements/", body, format="json").status_code == 201
    Product.objects.filter(pk=product.pk).update(is_active=False)
    a_second_later(catalog_changes)
    refused = clerk_client.post("/api/v1/movements/", body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "inactive_product")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_counter_moves_only_when_the_change_commits(clerk):
    """Another process must not reload the old user in the window before the commit and keep it."""
    changed, release = threading.Event(), threading.Event()
    before = counter("auth")

    def revoke():
        try:
            with transaction.atomic():
                User.objects.filter(pk=clerk.pk).update(is_active=False)
                changed.set()
                assert release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=revoke)
    thread.start()
    assert changed.wait(10)
    assert counter("auth") == before
    release.set()
    thread.join(10)
    assert counter("auth") > before
    assert Generation.objects.get(name="auth").value == counter("auth")
