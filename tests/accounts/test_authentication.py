"""Cached token authentication forgets what changed: tokens, users, roles and their permissions."""
import pytest
from django.contrib.auth.models import Group, Permission
from django.test.utils import CaptureQueriesContext
from django.db import connection

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def test_a_known_token_costs_no_query(clerk_client):
    assert clerk_client.get(URL).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert clerk_client.get(URL).status_code == 200
    assert not [q for q in queries.captured_queries if "authtoken" in q["sql"] or "auth_permission" in q["sql"]]


def test_a_deleted_token_is_refused_at_once(clerk_client, clerk):
    assert clerk_client.get(URL).status_code == 200
    clerk.auth_token.delete()
    assert clerk_client.get(URL).status_code == 401


def test_a_deactivated_user_is_refused_at_once(clerk_client, clerk):
    assert clerk_client.get(URL).status_code == 200
    clerk.is_active = False
    clerk.save()
    assert clerk_client.get(URL).status_code == 401


def test_a_removed_role_is_refused_at_once(clerk_client, clerk):
    assert clerk_client.get(URL).status_code == 200
    clerk.groups.clear()
    assert clerk_client.get(URL).status_code == 403


def test_a_permission_taken_from_a_role_is_refused_at_once(clerk_client):
    assert clerk_client.get(URL).status_code == 200
    Group.objects.get(name="clerk").permissions.remove(Permission.objects.get(codename="view_product"))
    assert clerk_client.get(URL).status_code == 403


def test_a_bad_token_is_401(anonymous_client, db):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = anonymous_client.get(URL)
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")
