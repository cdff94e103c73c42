"""Closing the books through a date: no movement may be dated on or before it afterwards, whatever
path posts it; closes go forward only; reopening is a new row by a second person; the closes have
a chain of their own that verification walks."""
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.roles import AUDITOR, CLERK, FINANCE, MANAGER
from ledger import closes
from ledger.closes import day_after_starts, period_close, period_reopen
from ledger.errors import PeriodAlreadyClosed, PeriodClosed
from ledger.models import ImmutableError, LedgerHead, Movement, PeriodClose
from ledger.verification import ledger_verify
from tests.factories import UserFactory

from .helpers import behind_the_apps_back, guard_quantity

pytestmark = pytest.mark.django_db

CLOSES = "/api/v1/ledger/closes/"
MOVEMENTS = "/api/v1/movements/"


def days_ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def instant(day, *, at=time(12)) -> datetime:
    """A business time on ``day`` in the books' time zone, in UTC."""
    return datetime.combine(day, at, tzinfo=closes.books_zone()).astimezone(dt_timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def stocked(post, product, bins):
    """100 received 30 days ago at the first bin."""
    return post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="100", occurred_at=iso(instant(days_ago(30))))


@pytest.fixture
def closed(stocked, finance):
    """The books closed through ten days ago, by finance."""
    return period_close(user=finance, through=days_ago(10), reason="month end")


def head() -> tuple[int, str]:
    found = LedgerHead.objects.get(pk=1)
    return found.position, found.hash


def issue(product, location, moment, **extra) -> dict:
    return {"kind": "issue", "product": product.pk, "location": location.pk, "quantity": "1", "occurred_at": iso(moment), **extra}


def assert_refused_as_closed(response, close, moment):
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "period_closed"
    assert body["close"] == {
        "id": close.sequence, "action": "close", "through": close.through.isoformat(),
        "closed_before": close.closed_before.isoformat(), "user": close.user_id, "username": close.user.username,
        "recorded_at": close.recorded_at.isoformat(),
    }
    assert body["occurred_at"] == moment.isoformat()
    assert close.through.isoformat() in body["detail"] and close.user.username in body["detail"]
    return body


# ---------------------------------------------------------------------------------------------
# Postings against a closed period, every path


def test_a_posting_dated_inside_a_closed_period_is_refused_and_writes_nothing(clerk_client, closed, product, bins):
    before = head()
    moment = instant(closed.through)
    assert_refused_as_closed(clerk_client.post(MOVEMENTS, issue(product, bins[0], moment), format="json"), closed, moment)
    assert head() == before
    assert guard_quantity(product, bins[0]) == 100


def test_the_last_instant_of_the_closed_day_is_refused_and_the_next_day_is_open(post, closed, product, bins):
    last = closed.closed_before - timedelta(microseconds=1)
    with pytest.raises(PeriodClosed):
        post(**issue(product, bins[0], last))
    assert post(**issue(product, bins[0], closed.closed_before)).occurred_at == closed.closed_before


def test_a_backdated_posting_dated_after_the_close_is_unaffected(post, closed, product, bins):
    post(**issue(product, bins[0], instant(days_ago(1))))
    backdated = post(**issue(product, bins[0], instant(days_ago(9))))  # before the latest movement, after the close
    assert backdated.balance_after == 98


def test_the_books_time_zone_decides_where_a_day_ends(settings, post, stocked, finance, product, bins):
    """Closed through D in Auckland (UTC+13 in December) ends at 11:00 UTC on D."""
    settings.TIME_ZONE = "Pacific/Auckland"
    through = days_ago(10)
    close = period_close(user=finance, through=through, reason="month end")
    expected = datetime.combine(through + timedelta(days=1), time.min, tzinfo=closes.books_zone())
    assert close.closed_before == expected and expected.utcoffset() == timedelta(hours=13)
    with pytest.raises(PeriodClosed):
        post(**issue(product, bins[0], expected - timedelta(microseconds=1)))
    post(**issue(product, bins[0], expected))


def test_a_batch_naming_the_item_dated_inside_is_refused_whole(clerk_client, closed, product, bins):
    before = head()
    moment = instant(closed.through - timedelta(days=2))
    items = [issue(product, bins[0], instant(days_ago(1))), issue(product, bins[0], moment)]
    response = clerk_client.post(f"{MOVEMENTS}batch/", {"movements": items}, format="json")
    body = assert_refused_as_closed(response, closed, moment)
    assert body["item"] == 1 and body["detail"].startswith("Item 1: ")
    assert head() == before


def test_a_count_dated_inside_is_refused(clerk_client, closed, product, bins):
    moment = instant(closed.through)
    count = {"kind": "count", "product": product.pk, "location": bins[0].pk, "counted_quantity": "3", "occurred_at": iso(moment)}
    assert_refused_as_closed(clerk_client.post(MOVEMENTS, count, format="json"), closed, moment)


def test_a_reversal_dated_inside_is_refused_and_one_dated_after_corrects_a_closed_movement(clerk_client, closed, stocked):
    moment = instant(closed.through)
    reverse = f"{MOVEMENTS}{stocked.pk}/reverse/"
    assert_refused_as_closed(clerk_client.post(reverse, {"occurred_at": iso(moment)}, format="json"), closed, moment)
    corrected = clerk_client.post(reverse, {"reason": "wrong supplier"}, format="json")  # dated now, in the open period
    assert corrected.status_code == 201, corrected.json()
    assert corrected.json()["reverses"] == stocked.pk


def test_a_csv_import_with_a_row_dated_inside_is_refused_whole(tmp_path, capsys, clerk, closed, product, bins):
    path = tmp_path / "late.csv"
    path.write_text(
        "kind,sku,location,quantity,occurred_at\n"
        f"issue,BOLT-M8,MAIN/A-01,1,{iso(instant(days_ago(1)))}\n"
        f"issue,BOLT-M8,MAIN/A-01,1,{iso(instant(closed.through))}\n"
    )
    before = head()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_movements", str(path), "--user", clerk.username)
    assert f"line 3: The books are closed through {closed.through.isoformat()}" in capsys.readouterr().err
    assert head() == before


def test_a_retry_of_a_posting_made_before_the_close_is_answered_not_refused(post, stocked, finance, product, bins):
    body = issue(product, bins[0], instant(days_ago(20)))
    first = post(key="SO-1", **body)
    period_close(user=finance, through=days_ago(10), reason="month end")
    assert post(key="SO-1", **body).pk == first.pk


def test_the_head_refuses_what_the_remembered_close_missed(monkeypatch, post, closed, product, bins):
    """The check before locking uses what this process remembers; a close committed a moment ago
    elsewhere is not in it yet. The head's cutoff, read under its lock, refuses the posting."""
    monkeypatch.setattr(closes, "refuse_closed", lambda movements, *, batch: None)
    before = head()
    with pytest.raises(PeriodClosed) as single:
        post(**issue(product, bins[0], instant(closed.through)))
    with pytest.raises(PeriodClosed) as batch:
        post([issue(product, bins[0], instant(days_ago(1))), issue(product, bins[0], instant(closed.through))])
    assert (single.value.extra["close"]["id"], batch.value.extra["item"]) == (closed.sequence, 1)
    assert head() == before and guard_quantity(product, bins[0]) == 100


# ---------------------------------------------------------------------------------------------
# Closing and reopening


def test_finance_closes_through_a_date_with_the_head_attested(finance_client, stocked):
    through = days_ago(10)
    response = finance_client.post(CLOSES, {"through": through.isoformat(), "reason": "October"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["id"], body["action"], body["through"], body["reason"]) == (1, "close", through.isoformat(), "October")
    assert (body["head_position"], body["head_hash"]) == (stocked.position, stocked.hash)
    assert LedgerHead.objects.get(pk=1).closed_before == day_after_starts(through)


def test_a_close_through_an_earlier_or_the_same_date_is_refused(finance_client, closed):
    for through in (closed.through, closed.through - timedelta(days=1)):
        response = finance_client.post(CLOSES, {"through": through.isoformat(), "reason": "again"}, format="json")
        assert response.status_code == 409
        assert (response.json()["code"], response.json()["close"]["id"]) == ("period_already_closed", closed.sequence)
    assert PeriodClose.objects.count() == 1
    later = finance_client.post(CLOSES, {"through": (closed.through + timedelta(days=1)).isoformat(), "reason": "a day more"}, format="json")
    assert (later.status_code, later.json()["id"]) == (201, 2)


@pytest.mark.parametrize("days", [0, -1, -400])
def test_a_close_through_today_or_later_is_refused(finance_client, days):
    response = finance_client.post(CLOSES, {"through": days_ago(days).isoformat(), "reason": "too soon"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["through"]
    assert not PeriodClose.objects.exists()


@pytest.mark.parametrize("body", [{"through": "2026-02-30", "reason": "x"}, {"through": "2026-01-01"}, {"through": "2026-01-01", "reason": "  "}, {}])
def test_a_close_without_a_date_or_a_reason_is_refused(finance_client, body):
    response = finance_client.post(CLOSES, body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert not PeriodClose.objects.exists()


def test_only_finance_closes_and_only_managers_reopen(clerk_client, auditor_client, manager_client, finance_client, closed):
    close = {"through": days_ago(5).isoformat(), "reason": "x"}
    reopen = {"through": days_ago(20).isoformat(), "reason": "x"}
    for client in (clerk_client, auditor_client, manager_client):
        assert client.post(CLOSES, close, format="json").status_code == 403
    for client in (clerk_client, auditor_client, finance_client):
        assert client.post(f"{CLOSES}reopen/", reopen, format="json").status_code == 403
    assert clerk_client.get(CLOSES).status_code == 403
    for client in (auditor_client, finance_client, manager_client):
        listed = client.get(CLOSES)
        assert (listed.status_code, [c["id"] for c in listed.json()["results"]]) == (200, [closed.sequence])
        assert client.get(f"{CLOSES}{closed.sequence}/").json()["hash"] == closed.hash
    assert PeriodClose.objects.count() == 1


def test_a_manager_reopens_and_the_period_takes_postings_again(manager_client, post, closed, product, bins):
    response = manager_client.post(f"{CLOSES}reopen/", {"through": days_ago(20).isoformat(), "reason": "late credit note"}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["action"], response.json()["id"]) == ("reopen", 2)
    post(**issue(product, bins[0], instant(days_ago(15))))
    with pytest.raises(PeriodClosed) as still:
        post(**issue(product, bins[0], instant(days_ago(20))))
    assert still.value.extra["close"]["action"] == "reopen"
    listed = manager_client.get(CLOSES).json()["results"]
    assert [(c["id"], c["action"]) for c in listed] == [(2, "reopen"), (1, "close")]


def test_a_close_is_never_reopened_by_the_person_who_made_it(client_for, stocked):
    both = UserFactory(roles=[FINANCE, MANAGER])
    close = period_close(user=both, through=days_ago(10), reason="month end")
    response = client_for(both).post(f"{CLOSES}reopen/", {"through": days_ago(20).isoformat(), "reason": "mine"}, format="json")
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["close"]["id"]) == ("reopen_by_closer", close.sequence)
    assert PeriodClose.objects.count() == 1


def test_a_reopening_goes_back_to_an_earlier_date_only(manager_client, closed):
    for through in (closed.through, closed.through + timedelta(days=1)):
        response = manager_client.post(f"{CLOSES}reopen/", {"through": through.isoformat(), "reason": "x"}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "period_not_closed")


def test_nothing_closed_is_nothing_to_reopen(manager_client):
    response = manager_client.post(f"{CLOSES}reopen/", {"through": days_ago(20).isoformat(), "reason": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "period_not_closed")
    assert "close" not in response.json()


def test_admin_lists_the_closes_to_read_never_to_change(client, closed):
    for roles, status in (([AUDITOR], 200), ([FINANCE], 200), ([MANAGER], 200), ([CLERK], 403)):
        client.force_login(UserFactory(is_staff=True, roles=roles))
        assert client.get("/admin/ledger/periodclose/").status_code == status, roles
    client.force_login(UserFactory(is_staff=True, roles=[FINANCE, MANAGER]))
    assert "month end" in client.get("/admin/ledger/periodclose/").content.decode()
    for attempt in ("change", "delete"):
        refused = client.post(f"/admin/ledger/periodclose/{closed.sequence}/{attempt}/", {"reason": "edited", "post": "yes"})
        assert refused.status_code == 403
    assert client.get("/admin/ledger/periodclose/add/").status_code == 403
    assert PeriodClose.objects.get().reason == "month end"


# ---------------------------------------------------------------------------------------------
# Append-only, and the chain of closes


def test_a_close_is_never_changed_or_removed(closed):
    with pytest.raises(ImmutableError):
        closed.save()
    with pytest.raises(ImmutableError):
        closed.delete()
    with pytest.raises(ImmutableError):
        PeriodClose.objects.update(reason="edited")
    with pytest.raises(ImmutableError):
        PeriodClose.objects.all().delete()
    for sql in ("UPDATE ledger_periodclose SET reason = 'edited'", "DELETE FROM ledger_periodclose"):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert PeriodClose.objects.get().reason == "month end"


def test_the_head_cutoff_follows_the_latest_close_only(closed):
    for value in (None, closed.closed_before - timedelta(days=1)):
        with pytest.raises(DatabaseError), transaction.atomic():
            LedgerHead.objects.filter(pk=1).update(closed_before=value)
    assert LedgerHead.objects.get(pk=1).closed_before == closed.closed_before


def test_the_chain_of_closes_verifies_from_genesis(closed, manager):
    period_reopen(user=manager, through=days_ago(20), reason="late credit note")
    report = ledger_verify()
    assert report.intact and (report.closes.intact, report.closes.closes) == (True, 2)
    previous = "0" * 64
    for close in PeriodClose.objects.order_by("sequence"):
        previous = closes.close_link(previous, close)
        assert previous == close.hash


def test_an_edited_close_is_caught_by_verification(auditor_client, closed, capsys):
    behind_the_apps_back("UPDATE ledger_periodclose SET through = %s, closed_before = %s",
                         [closed.through - timedelta(days=5), closed.closed_before - timedelta(days=5)])
    body = auditor_client.get("/api/v1/ledger/verify/").json()
    assert body["intact"] is False and body["first_broken_position"] is None
    assert body["closes"] == {
        "intact": False, "closes": 1, "first_broken_sequence": 1, "problem_code": "close_broken_link",
        "problem": "the close's content or its predecessor does not match its stored hash",
    }
    with pytest.raises(CommandError, match="closes BROKEN at close 1"):
        call_command("verify_ledger")


def test_a_head_opened_behind_the_apps_back_is_caught(closed):
    behind_the_apps_back("UPDATE ledger_ledgerhead SET closed_before = NULL")
    report = ledger_verify()
    assert (report.intact, report.closes.problem_code) == (False, "close_cutoff_mismatch")


def test_a_removed_close_is_caught(closed, finance):
    period_close(user=finance, through=days_ago(5), reason="a week on")
    behind_the_apps_back("DELETE FROM ledger_periodclose WHERE sequence = 1")
    report = ledger_verify()
    assert (report.closes.problem_code, report.closes.first_broken_sequence) == ("close_missing", 1)


def test_a_movement_recorded_after_a_close_and_dated_inside_it_is_caught(post, closed, manager, product, bins):
    """Moved into the closed period behind the application's back (the movement chain breaks too),
    or posted while a trigger-less head let it through: the record of closes says the close was not
    kept, and by which movement. A reopening moves the cutoff back for what follows it."""
    kept = post(**issue(product, bins[0], closed.closed_before))
    period_reopen(user=manager, through=days_ago(20), reason="late credit note")
    reopened = post(**issue(product, bins[0], instant(days_ago(15))))
    assert ledger_verify().intact
    behind_the_apps_back("UPDATE ledger_movement SET occurred_at = %s WHERE position = %s",
                         [instant(days_ago(25)), reopened.position])
    assert ledger_verify().closes.intact is False
    behind_the_apps_back("UPDATE ledger_movement SET occurred_at = %s WHERE position = %s",
                         [instant(days_ago(15)), reopened.position])
    assert ledger_verify().intact
    behind_the_apps_back("UPDATE ledger_movement SET occurred_at = %s WHERE position = %s",
                         [instant(days_ago(15)), kept.position])
    report = ledger_verify()
    assert (report.closes.problem_code, report.closes.first_broken_sequence) == ("dated_inside_close", closed.sequence)
    assert f"movement {kept.position}, recorded after this row" in report.closes.problem


def test_a_close_attesting_a_head_the_ledger_does_not_hold_is_caught(closed):
    behind_the_apps_back("UPDATE ledger_movement SET hash = %s WHERE position = 1", ["f" * 64])
    report = ledger_verify()
    assert report.closes.problem_code == "close_head_mismatch"


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a close and postings at once, on real connections


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestRace:
    def test_a_close_committing_between_a_postings_check_and_its_commit_refuses_it(self, monkeypatch, post, stocked, finance, product, bins):
        """The posting passes the early check (nothing closed yet), then the close commits; under
        the head's lock the posting sees it and is refused."""
        import threading

        from tests.threads import Background

        checked, closed_now = threading.Event(), threading.Event()
        check = closes.refuse_closed

        def check_then_wait(movements, *, batch):
            check(movements, batch=batch)
            checked.set()
            assert closed_now.wait(10)

        monkeypatch.setattr(closes, "refuse_closed", check_then_wait)
        posting = Background(lambda: post(**issue(product, bins[0], instant(days_ago(15)))))
        assert checked.wait(10)
        close = period_close(user=finance, through=days_ago(10), reason="month end")
        closed_now.set()
        with pytest.raises(PeriodClosed):
            posting.result()
        assert (head()[0], guard_quantity(product, bins[0])) == (close.head_position, 100)

    def test_a_posting_waits_for_a_close_holding_the_head_and_then_sees_it(self, monkeypatch, post, stocked, finance, product, bins):
        import threading
        import time as clock

        from tests.threads import Background

        holding, release = threading.Event(), threading.Event()
        set_cutoff = closes.store.set_closed_before

        def set_then_hold(cutoff):
            set_cutoff(cutoff)
            holding.set()
            assert release.wait(10)

        monkeypatch.setattr(closes.store, "set_closed_before", set_then_hold)
        closing = Background(lambda: period_close(user=finance, through=days_ago(10), reason="month end"))
        assert holding.wait(10)
        posting = Background(lambda: post(**issue(product, bins[0], instant(days_ago(15)))))
        clock.sleep(0.3)
        assert Movement.objects.count() == 1  # the posting waits on the head
        release.set()
        closing.result()
        with pytest.raises(PeriodClosed):
            posting.result()

    def test_postings_racing_a_close_are_either_before_it_or_refused(self, post, stocked, finance, product, bins):
        """Every accepted posting dated inside the period is recorded before the close's head."""
        from tests.threads import run_concurrently

        inside = [lambda: post(**issue(product, bins[0], instant(days_ago(15)))) for _ in range(8)]
        close = [lambda: period_close(user=finance, through=days_ago(10), reason="month end")]
        results = run_concurrently(inside + close)
        recorded = results[-1]
        assert isinstance(recorded, PeriodClose), results
        posted = [r for r in results[:-1] if isinstance(r, Movement)]
        assert all(isinstance(r, (Movement, PeriodClose, PeriodClosed)) for r in results), results
        assert all(movement.position <= recorded.head_position for movement in posted)
        assert recorded.head_position == 1 + len(posted)
        assert not Movement.objects.filter(position__gt=recorded.head_position, occurred_at__lt=recorded.closed_before).exists()
        assert ledger_verify().intact

    def test_closes_at_once_are_checked_one_after_the_other(self, finance, stocked):
        from tests.threads import run_concurrently

        results = run_concurrently([
            lambda through=through: period_close(user=finance, through=through, reason="at once")
            for through in (days_ago(10), days_ago(10), days_ago(12))
        ])
        recorded = [r for r in results if isinstance(r, PeriodClose)]
        assert recorded and all(isinstance(r, (PeriodClose, PeriodAlreadyClosed)) for r in results), results
        assert [c.sequence for c in PeriodClose.objects.order_by("sequence")] == list(range(1, len(recorded) + 1))
        assert ledger_verify().closes.intact
