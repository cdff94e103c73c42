"""Tamper evidence: the hash chain catches rows altered or removed behind the application's back."""
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import chain
from ledger.models import Movement
from ledger.verification import ledger_verify

from .helpers import behind_the_apps_back

pytestmark = pytest.mark.django_db


def test_an_untouched_ledger_is_intact(ledger):
    report = ledger_verify()
    assert report.intact
    assert (report.events, report.head_hash) == (4, ledger[-1].hash)


def test_the_chain_can_be_recomputed_from_the_documented_form(ledger):
    previous = chain.GENESIS
    for movement in ledger:
        previous = chain.event_link(previous, [getattr(movement, f) for f in chain.CHAINED_FIELDS])
        assert previous == movement.hash


def test_altered_quantity_is_caught_at_its_position(ledger):
    behind_the_apps_back("UPDATE ledger_movement SET quantity = 3, delta = -3 WHERE position = 3")
    report = ledger_verify()
    assert not report.intact
    assert report.first_broken_position == 3


def test_altered_text_is_caught(ledger):
    behind_the_apps_back("UPDATE ledger_movement SET reason = 'sold' WHERE position = 3")
    assert ledger_verify().first_broken_position == 3


def test_rehashed_row_is_caught_at_the_next_link(ledger):
    """A forger who also recomputes the altered row's own hash breaks the link after it."""
    forged = ledger[1]
    values = [getattr(forged, f) for f in chain.CHAINED_FIELDS]
    values[chain.CHAINED_FIELDS.index("reason")] = "forged"
    new_hash = chain.event_link(ledger[0].hash, values)
    behind_the_apps_back("UPDATE ledger_movement SET reason = 'forged', hash = %s WHERE position = 2", [new_hash])
    assert ledger_verify().first_broken_position == 3


def test_removed_row_is_caught(ledger):
    behind_the_apps_back("DELETE FROM ledger_movement WHERE position = 2")
    report = ledger_verify()
    assert (report.intact, report.first_broken_position) == (False, 2)


def test_removed_tail_is_caught_by_the_head(ledger):
    behind_the_apps_back("DELETE FROM ledger_movement WHERE position = 4")
    report = ledger_verify()
    assert (report.intact, report.first_broken_position) == (False, 4)


def test_verify_ledger_command_reports_intact_or_fails(ledger, capsys):
    call_command("verify_ledger")
    assert f"intact, 4 events, head hash {ledger[-1].hash}" in capsys.readouterr().out
    behind_the_apps_back("UPDATE ledger_movement SET reference = 'X' WHERE position = 1")
    with pytest.raises(CommandError, match="BROKEN at position 1"):
        call_command("verify_ledger")


def test_auditor_endpoint_reports_the_break(ledger, auditor_client):
    behind_the_apps_back("UPDATE ledger_movement SET reason = 'sold' WHERE position = 2")
    body = auditor_client.get("/api/v1/ledger/verify/").json()
    assert (body["intact"], body["first_broken_position"]) == (False, 2)


@pytest.mark.postgres
def test_postgres_writes_the_canonical_form_exactly_as_python_does(post, product, bins):
    """Verification streams the canonical text from PostgreSQL; it must be Python's, byte for byte,
    for awkward text, zero and whole quantities, nulls and times."""
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1000", unit_cost="0.1000",
         reason='quote " backslash \\ tab \t newline \n nbsp \u00a0 unicode é ✓ \u2028', reference="/slash/")
    post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="999.999")
    post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="0")
    sql = f"SELECT m.position, {chain.canonical_sql(Movement)} FROM ledger_movement m ORDER BY m.position"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        from_postgres = dict(cursor.fetchall())
    for movement in Movement.objects.order_by("position"):
        assert from_postgres[movement.position] == chain.event_canonical([getattr(movement, f) for f in chain.CHAINED_FIELDS])
