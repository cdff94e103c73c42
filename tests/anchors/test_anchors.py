"""Anchors record the ledger's head (signed when a key is set), once per head, append-only; the API
publishes them to the roles that answer for the books; the beat and a command record them too."""
import base64
import calendar
import json
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from anchors import signing
from anchors.errors import NothingToAnchor, SigningKeyNotSet
from anchors.models import IMMUTABLE, Anchor, AnchorSource
from anchors.services import anchor_record
from anchors.tasks import anchor_ledger
from ledger.models import ImmutableError
from ledger.selectors import ledger_head
from tests.threads import run_concurrently

pytestmark = pytest.mark.django_db

URL = "/api/v1/anchors/"


def _verifies(anchor: Anchor, key) -> bool:
    from cryptography.exceptions import InvalidSignature

    text = signing.message(position=anchor.position, hash=anchor.hash, recorded_at=anchor.recorded_at,
                           anchored_at=anchor.anchored_at)
    try:
        key.public_key().verify(base64.b64decode(anchor.signature), text)
    except InvalidSignature:
        return False
    return True


def test_an_anchor_is_the_head_signed_with_the_configured_key(signing_key, public_key_text, receive):
    receive()
    receive()
    anchored = anchor_record(source=AnchorSource.COMMAND)
    head, anchor = ledger_head(), anchored.anchor
    assert anchored.created
    assert (anchor.position, anchor.hash, anchor.recorded_at) == (2, head.hash, head.recorded_at)
    assert anchor.anchored_at >= anchor.recorded_at
    assert (anchor.source, anchor.requested_by, anchor.public_key) == ("command", None, public_key_text)
    assert _verifies(anchor, signing_key)
    anchor.refresh_from_db()  # as stored, to the microsecond
    assert _verifies(anchor, signing_key)


def test_the_signed_message_is_the_documented_text(signing_key, receive):
    receive()
    anchor = anchor_record(source=AnchorSource.COMMAND).anchor
    micros = lambda t: calendar.timegm(t.utctimetuple()) * 1_000_000 + t.microsecond  # noqa: E731
    assert signing.message(position=anchor.position, hash=anchor.hash, recorded_at=anchor.recorded_at,
                           anchored_at=anchor.anchored_at) == (
        f"wms-ledger-anchor/1|1|{anchor.hash}|{micros(anchor.recorded_at)}|{micros(anchor.anchored_at)}".encode())


def test_without_a_key_anchors_are_unsigned(no_signing_key, receive, auditor_client):
    receive()
    anchor = anchor_record(source=AnchorSource.COMMAND).anchor
    assert (anchor.signature, anchor.public_key) == ("", "")
    body = auditor_client.get(f"{URL}{anchor.pk}/").json()
    assert (body["signature"], body["public_key"]) == (None, None)
    refused = auditor_client.get(f"{URL}key/")
    assert (refused.status_code, refused.json()) == (404, {"code": "signing_key_not_set", "detail": SigningKeyNotSet.MESSAGE})


def test_the_public_key_is_published(signing_key, public_key_text, auditor_client):
    response = auditor_client.get(f"{URL}key/")
    assert response.status_code == 200
    assert response.json() == {"algorithm": "Ed25519", "public_key": public_key_text, "message_format": "wms-ledger-anchor/1"}


def test_a_head_that_has_not_moved_is_not_anchored_again(signing_key, receive):
    receive()
    first = anchor_record(source=AnchorSource.SCHEDULE)
    again = anchor_record(source=AnchorSource.COMMAND)
    assert (again.created, again.anchor.pk) == (False, first.anchor.pk)
    receive()
    moved = anchor_record(source=AnchorSource.COMMAND)
    assert moved.created and moved.anchor.position == 2
    assert Anchor.objects.count() == 2


def test_an_empty_ledger_has_nothing_to_anchor(auditor_client):
    with pytest.raises(NothingToAnchor):
        anchor_record(source=AnchorSource.COMMAND)
    refused = auditor_client.post(URL)
    assert (refused.status_code, refused.json()) == (409, {"code": "nothing_to_anchor", "detail": NothingToAnchor.MESSAGE})
    assert anchor_ledger.apply().get() == NothingToAnchor.MESSAGE
    with pytest.raises(CommandError, match="there is no head to anchor"):
        call_command("anchor_ledger")
    assert not Anchor.objects.exists()


class TestAppendOnly:
    @pytest.fixture
    def anchor(self, no_signing_key, receive):
        receive()
        return anchor_record(source=AnchorSource.COMMAND).anchor

    def test_the_orm_refuses_to_change_or_delete_an_anchor(self, anchor):
        anchor.hash = "0" * 64
        with pytest.raises(ImmutableError, match=IMMUTABLE):
            anchor.save()
        with pytest.raises(ImmutableError, match=IMMUTABLE):
            anchor.delete()
        with pytest.raises(ImmutableError, match=IMMUTABLE):
            Anchor.objects.filter(pk=anchor.pk).update(hash="0" * 64)
        with pytest.raises(ImmutableError, match=IMMUTABLE):
            Anchor.objects.all().delete()
        assert Anchor.objects.get(pk=anchor.pk).hash == ledger_head().hash

    @pytest.mark.parametrize("statement", ["UPDATE anchors_anchor SET hash = 'x'", "DELETE FROM anchors_anchor"])
    def test_the_database_refuses_raw_update_and_delete(self, anchor, statement):
        refused = f"anchors_anchor is append-only: {statement.split()[0]} refused; an attested head is never changed"
        with pytest.raises(DatabaseError, match=refused):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        assert Anchor.objects.get(pk=anchor.pk).hash == anchor.hash

    @pytest.mark.postgres
    def test_postgres_refuses_truncate(self, anchor):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle this test's own pending FK checks
                cursor.execute("TRUNCATE anchors_anchor")
        assert Anchor.objects.filter(pk=anchor.pk).exists()

    def test_a_second_anchor_of_one_position_is_refused_by_the_database(self, anchor):
        from django.db import IntegrityError

        with pytest.raises(IntegrityError), transaction.atomic():
            Anchor.objects.create(position=anchor.position, hash=anchor.hash, recorded_at=anchor.recorded_at,
                                  anchored_at=anchor.anchored_at, source=AnchorSource.API)


class TestApi:
    def test_auditors_anchor_on_request_and_read_the_anchors_newest_first(self, signing_key, receive, auditor, auditor_client):
        receive()
        created = auditor_client.post(URL)
        assert created.status_code == 201
        body = created.json()
        assert (body["position"], body["source"], body["requested_by"]) == (1, "api", auditor.pk)
        assert body["message"] == signing.message(
            position=1, hash=body["hash"], recorded_at=Anchor.objects.get().recorded_at,
            anchored_at=Anchor.objects.get().anchored_at).decode()
        again = auditor_client.post(URL)
        assert (again.status_code, again.json()) == (200, body)
        receive()
        assert auditor_client.post(URL).status_code == 201
        listed = auditor_client.get(URL).json()
        assert (listed["count"], [a["position"] for a in listed["results"]]) == (2, [2, 1])
        assert auditor_client.get(f"{URL}{body['id']}/").json() == body

    def test_the_list_is_paginated(self, no_signing_key, receive, auditor_client):
        for _ in range(3):
            receive()
            anchor_record(source=AnchorSource.COMMAND)
        page = auditor_client.get(f"{URL}?page_size=2").json()
        assert ([a["position"] for a in page["results"]], page["next"] is not None) == ([3, 2], True)
        assert auditor_client.get(f"{URL}?page=3&page_size=2").status_code == 404

    def test_an_unknown_anchor_is_a_404(self, auditor_client):
        for path in ("999/", "9999999999999999999999/"):
            response = auditor_client.get(f"{URL}{path}")
            assert (response.status_code, response.json()["code"]) == (404, "not_found"), path

    def test_who_may_read_and_who_may_ask(self, no_signing_key, receive, anonymous_client, clerk_client, auditor_client,
                                          finance_client, manager_client):
        receive()
        assert anonymous_client.get(URL).status_code == 401
        assert anonymous_client.post(URL).status_code == 401
        assert clerk_client.get(URL).status_code == 403
        assert clerk_client.get(f"{URL}key/").status_code == 403
        assert clerk_client.post(URL).json()["code"] == "permission_denied"
        assert finance_client.post(URL).status_code == 403
        assert not Anchor.objects.exists()
        assert manager_client.post(URL).status_code == 201
        for client in (auditor_client, finance_client, manager_client):
            assert client.get(URL).json()["count"] == 1

    def test_anchors_cannot_be_changed_or_deleted_through_the_api(self, no_signing_key, receive, auditor_client):
        receive()
        anchor = anchor_record(source=AnchorSource.COMMAND).anchor
        for method in ("put", "patch", "delete"):
            response = getattr(auditor_client, method)(f"{URL}{anchor.pk}/", {"hash": "0" * 64})
            assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed"), method
        assert Anchor.objects.get().hash == anchor.hash


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles (groups) come back after
def test_two_requests_at_once_make_one_anchor(no_signing_key, receive):
    receive()
    results = run_concurrently([lambda: anchor_record(source=AnchorSource.API)] * 4)
    assert all(not isinstance(result, Exception) for result in results), results
    assert sorted(result.created for result in results) == [False, False, False, True]
    assert len({result.anchor.pk for result in results}) == 1
    assert Anchor.objects.count() == 1


def test_the_beat_anchors_the_head_at_the_end_of_each_day(no_signing_key, receive):
    entry = settings.CELERY_BEAT_SCHEDULE["anchors-anchor-ledger"]
    assert entry["task"] == anchor_ledger.name
    assert entry["schedule"] == crontab(hour=23, minute=59)
    receive()
    assert anchor_ledger.apply().get().startswith("head #1 ")
    assert Anchor.objects.get().source == "schedule"
    assert anchor_ledger.apply().get().startswith("unchanged since head #1 ")
    assert Anchor.objects.count() == 1


def test_the_command_prints_the_anchor_as_the_api_does(signing_key, receive, auditor_client):
    receive()
    out, err = StringIO(), StringIO()
    call_command("anchor_ledger", stdout=out, stderr=err)
    printed = json.loads(out.getvalue())
    assert printed == auditor_client.get(f"{URL}{printed['id']}/").json()
    assert printed["source"] == "command" and err.getvalue() == ""
    call_command("anchor_ledger", stdout=StringIO(), stderr=err)
    assert "has not moved since anchor" in err.getvalue()


class TestAdmin:
    def test_admin_lists_anchors_and_changes_none(self, admin_client, no_signing_key, receive):
        receive()
        anchor = anchor_record(source=AnchorSource.COMMAND).anchor
        assert anchor.hash[:12] in admin_client.get("/admin/anchors/anchor/").content.decode()
        assert admin_client.get("/admin/anchors/anchor/add/").status_code == 403
        for attempt in ("change", "delete"):
            response = admin_client.post(f"/admin/anchors/anchor/{anchor.pk}/{attempt}/", {"hash": "0" * 64, "post": "yes"})
            assert response.status_code == 403, attempt
        assert Anchor.objects.get().hash == anchor.hash
