"""Verification sees every row of the table, stays right while postings commit, and proves that
today's ledger extends a head an auditor saved earlier."""
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import chain
from ledger.models import Movement
from ledger.verification import (
    BROKEN_LINK,
    HEAD_MISMATCH,
    MISSING_POSITION,
    ROW_BEFORE_START,
    ROW_BEYOND_HEAD,
    SavedHead,
    ledger_head,
    ledger_verify,
)
from tests.threads import Background

from .helpers import behind_the_apps_back

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/ledger/verify/"
_COLUMNS = [f.column for f in Movement._meta.concrete_fields]
_KEY = chain.CHAINED_FIELDS.index("idempotency_key")


def plant(position: int) -> str:
    """Insert a row by plain SQL at ``position`` (the triggers allow INSERT): a copy of the last event
    under a fresh key, linked as a forger would link it, to the last event's hash. Returns its hash."""
    source = Movement.objects.order_by("-position").first()
    values = [getattr(source, field) for field in chain.CHAINED_FIELDS]
    values[0], values[_KEY] = position, f"{source.idempotency_key}-planted-{position}"
    link = chain.event_link(source.hash, values)
    given = {"position": position, "idempotency_key": values[_KEY], "hash": link}
    selected = ", ".join("%s" if column in given else column for column in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO ledger_movement ({', '.join(_COLUMNS)}) SELECT {selected} FROM ledger_movement WHERE position = %s",
            [given[column] for column in _COLUMNS if column in given] + [source.position],
        )
    return link


def saved(movement) -> str:
    return f"{movement.position}:{movement.hash}"


# Every row of the table


@pytest.mark.parametrize("beyond", [1, 1000])
def test_a_row_planted_beyond_the_head_is_caught(ledger, beyond):
    """Even with a link that follows the last event's: no posting wrote it, so the head never moved."""
    plant(4 + beyond)
    report = ledger_verify()
    assert (report.intact, report.first_broken_position, report.problem_code) == (False, 4 + beyond, ROW_BEYOND_HEAD)
    assert f"a row at position {4 + beyond} lies beyond the head at 4" in report.problem
    assert (report.events, report.head_position, report.head_hash) == (4, 4, ledger[-1].hash)


def test_the_command_and_the_endpoint_report_a_planted_row(ledger, auditor_client):
    plant(1004)
    with pytest.raises(CommandError, match="BROKEN at position 1004: a row at position 1004 lies beyond the head at 4"):
        call_command("verify_ledger")
    body = auditor_client.get(VERIFY).json()
    assert (body["intact"], body["first_broken_position"], body["problem_code"]) == (False, 1004, ROW_BEYOND_HEAD)
    assert body["expected_head"] is None


def test_a_row_before_the_first_position_is_caught(ledger):
    plant(0)
    report = ledger_verify()
    assert (report.intact, report.first_broken_position, report.problem_code) == (False, 0, ROW_BEFORE_START)


def test_the_first_problem_in_position_order_is_reported(ledger):
    plant(1004)
    behind_the_apps_back("DELETE FROM ledger_movement WHERE position = 2")
    report = ledger_verify()
    assert (report.first_broken_position, report.problem_code, report.events) == (2, MISSING_POSITION, 1)


def test_each_problem_has_its_code(ledger):
    behind_the_apps_back("UPDATE ledger_movement SET reason = 'sold' WHERE position = 3")
    assert (ledger_verify().first_broken_position, ledger_verify().problem_code) == (3, BROKEN_LINK)
    behind_the_apps_back("DELETE FROM ledger_movement WHERE position = 3")
    assert (ledger_verify().first_broken_position, ledger_verify().problem_code) == (3, MISSING_POSITION)


def test_a_head_rewritten_without_its_event_is_caught(ledger):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerhead SET hash = %s WHERE id = 1", ["f" * 64])
    report = ledger_verify()
    assert (report.intact, report.first_broken_position, report.problem_code) == (False, 4, HEAD_MISMATCH)


def test_an_empty_ledger_is_intact(db):
    report = ledger_verify(expect=SavedHead(0, chain.GENESIS))
    assert (report.intact, report.events, report.head_hash, report.expected_head.extends) == (True, 0, chain.GENESIS, True)


# A head saved earlier


def test_the_ledger_extends_a_head_saved_earlier(post, product, bins, auditor_client):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10")
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="3")
    head = auditor_client.get("/api/v1/ledger/head/").json()  # what the auditor keeps
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="2")
    post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="1")
    expect = f"{head['position']}:{head['hash']}"

    report = ledger_verify(expect=SavedHead.parse(expect))
    assert report.intact and report.events == 4
    assert report.expected_head.extends and report.expected_head.problem is None
    body = auditor_client.get(VERIFY, {"expect": expect}).json()
    assert body["expected_head"] == {"position": 2, "hash": head["hash"], "extends": True, "problem": None}
    assert auditor_client.get(VERIFY, {"expect": expect.upper()}).json()["expected_head"]["extends"] is True
    for earlier in Movement.objects.all():  # every earlier head, and today's
        assert ledger_verify(expect=SavedHead(earlier.position, earlier.hash)).expected_head.extends


def test_the_command_says_the_ledger_extends_the_saved_head(ledger, capsys):
    call_command("verify_ledger", "--expect", saved(ledger[1]))
    out = capsys.readouterr().out
    assert f"intact, 4 events, head hash {ledger[-1].hash}; extends the saved head at position 2" in out


def test_a_wrong_hash_does_not_extend(ledger, auditor_client):
    wrong = f"2:{ledger[2].hash}"
    report = ledger_verify(expect=SavedHead.parse(wrong))
    assert report.intact and not report.expected_head.extends
    assert f"the chain's hash at position 2 is {ledger[1].hash}, not the saved {ledger[2].hash}" in report.expected_head.problem
    with pytest.raises(CommandError, match="does NOT extend the saved head at position 2: the chain's hash"):
        call_command("verify_ledger", "--expect", wrong)
    response = auditor_client.get(VERIFY, {"expect": wrong})
    assert response.status_code == 200
    assert (response.json()["intact"], response.json()["expected_head"]["extends"]) == (True, False)


def test_a_position_beyond_todays_head_does_not_extend(ledger, auditor_client):
    """Say the tail was cut and the head set back: the ledger no longer reaches the saved head."""
    report = ledger_verify(expect=SavedHead(5, ledger[-1].hash))
    assert not report.expected_head.extends
    assert report.expected_head.problem == "its position is beyond today's head at 4"
    with pytest.raises(CommandError, match="does NOT extend the saved head at position 5: its position is beyond"):
        call_command("verify_ledger", f"--expect=5:{ledger[-1].hash}")
    body = auditor_client.get(VERIFY, {"expect": f"5:{ledger[-1].hash}"}).json()
    assert (body["intact"], body["expected_head"]["extends"]) == (True, False)


def test_a_chain_and_head_rewritten_together_verify_but_do_not_extend_the_saved_head(ledger):
    """Whoever owns the table can rewrite an event, re-link everything after it and move the head:
    the chain alone is intact again. A head saved before the rewrite tells."""
    earlier = saved(ledger[2])
    previous = ledger[0].hash
    for movement in ledger[1:]:
        values = [getattr(movement, field) for field in chain.CHAINED_FIELDS]
        if movement.position == 2:
            values[chain.CHAINED_FIELDS.index("reason")] = movement.reason = "forged"
        previous = chain.event_link(previous, values)
        behind_the_apps_back(
            "UPDATE ledger_movement SET reason = %s, hash = %s WHERE position = %s",
            [movement.reason, previous, movement.position],
        )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerhead SET hash = %s WHERE id = 1", [previous])

    assert ledger_verify().intact
    report = ledger_verify(expect=SavedHead.parse(earlier))
    assert report.intact and not report.expected_head.extends
    assert "the ledger was rewritten at or before that position" in report.expected_head.problem
    assert ledger_verify(expect=SavedHead.parse(saved(ledger[0]))).expected_head.extends  # before the rewrite


def test_a_break_at_or_before_the_saved_position_does_not_extend(ledger):
    behind_the_apps_back("UPDATE ledger_movement SET reference = 'X' WHERE position = 2")
    report = ledger_verify(expect=SavedHead.parse(saved(ledger[2])))
    assert (report.intact, report.expected_head.extends) == (False, False)
    assert report.expected_head.problem == "the chain does not verify through position 3: it breaks at 2"


def test_a_break_after_the_saved_position_still_extends_it_but_fails_the_command(ledger):
    plant(5)
    report = ledger_verify(expect=SavedHead.parse(saved(ledger[3])))
    assert (report.intact, report.expected_head.extends) == (False, True)
    with pytest.raises(CommandError, match="BROKEN at position 5: .*; extends the saved head at position 4"):
        call_command("verify_ledger", "--expect", saved(ledger[3]))


@pytest.mark.parametrize("value", [
    "", "nope", "2", "2:", ":" + "a" * 64, "-1:" + "a" * 64, "2:" + "a" * 63, "2:" + "g" * 64, "2:" + "a" * 65,
    "1.5:" + "a" * 64, "2:" + "a" * 64 + ":3", "1" * 19 + ":" + "a" * 64, "\u0662:" + "a" * 64,
])
def test_a_malformed_expect_is_a_400(ledger, auditor_client, value):
    response = auditor_client.get(VERIFY, {"expect": value})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("validation_error", ["expect"])
    assert body["detail"].startswith("Invalid input in 'expect': ")


def test_the_command_refuses_a_malformed_expect(ledger):
    with pytest.raises(CommandError, match="argument --expect: Expected POSITION:HASH"):
        call_command("verify_ledger", "--expect", "2:nothex")


def test_only_auditors_verify_against_a_saved_head(ledger, auditor_client, clerk_client, finance_client):
    expect = {"expect": saved(ledger[1])}
    assert auditor_client.get(VERIFY, expect).json()["expected_head"]["extends"] is True
    assert clerk_client.get(VERIFY, expect).status_code == 403
    assert finance_client.get(VERIFY, expect).status_code == 403
    assert clerk_client.get(VERIFY, {"expect": "nope"}).status_code == 403


def test_the_schema_documents_the_expect_parameter(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/ledger/verify/"]["get"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "expect"]
    assert (parameter["in"], parameter["schema"]["type"], parameter["schema"]["pattern"]) == (
        "query", "string", r"^[0-9]{1,18}:[0-9a-fA-F]{64}$"
    )
    report = schema["components"]["schemas"]["ChainReport"]["properties"]
    assert {"problem_code", "expected_head"} <= set(report)


# Postings committing while the walk runs (PostgreSQL: real connections)


def receipts(product, location, count):
    return [{"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": "1"}] * count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postings_committed_in_the_middle_of_the_walk_leave_it_intact(post, product, bins, monkeypatch):
    """A posting commits while the walk is half way: the walk's stream does not show it, the head
    read afterwards does, and the ledger is still intact, with the posting counted."""
    post(receipts(product, bins[0], 300))
    earlier = ledger_head()
    link_text, calls, posted = chain.link_text, [0], []

    def link_and_post_meanwhile(previous, text):
        calls[0] += 1
        if calls[0] == 150:
            posted.append(Background(lambda: post(receipts(product, bins[1], 60))).result())
            posted.append(Background(lambda: post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")).result())
        return link_text(previous, text)

    monkeypatch.setattr(chain, "link_text", link_and_post_meanwhile)
    report = ledger_verify(expect=SavedHead(earlier.position, earlier.hash))
    assert len(posted) == 2, "the postings did not run during the walk"
    assert report.intact, str(report)
    assert (report.events, report.head_position) == (361, 361)
    assert report.expected_head.extends


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_ledger_posted_to_throughout_verification_is_always_intact(post, product, bins):
    post(receipts(product, bins[0], 500))
    walking = threading.Event()
    done = threading.Event()

    def keep_posting() -> int:
        walking.wait(10)
        count = 0
        while not done.is_set():
            if count % 3:
                post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1")
            else:
                post(receipts(product, bins[1], 7))
            count += 1
        return count

    background = Background(keep_posting)
    reports = []
    try:
        walking.set()
        for _ in range(40):
            reports.append(ledger_verify())
    finally:
        done.set()
    postings = background.result()
    assert not [str(r) for r in reports if not r.intact]
    counts = [r.events for r in reports]
    assert counts == sorted(counts) and counts[-1] > counts[0], (postings, counts)
    final = ledger_verify()
    assert final.intact and final.events == ledger_head().position
