"""A ledger written before lots (by commit 4ea41a1, kept in ``data/ledger_before_lots.json``)
still verifies after the migration, in the application (Python or PostgreSQL's canonical text) and
in the standalone verifier; events written since chain in the marked format, after it."""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Tracking
from ledger import verification
from ledger.export import export_lines
from ledger.models import LedgerHead, Movement
from tests.factories import LocationFactory, ProductFactory, UserFactory, WarehouseFactory

from .helpers import behind_the_apps_back
from .test_export import verify_export

pytestmark = pytest.mark.django_db
LEDGER = json.loads((Path(__file__).parent / "data" / "ledger_before_lots.json").read_text())
_TIMES = {"occurred_at", "recorded_at"}


@pytest.fixture
def ledger_before_lots(db):
    """The rows as the earlier code wrote them, with the catalog and user they name (same ids)."""
    user = UserFactory(id=7, username="old-clerk")
    warehouse = WarehouseFactory(id=3, code="MAIN")
    locations = [LocationFactory(id=21, warehouse=warehouse, code="A-01"), LocationFactory(id=22, warehouse=warehouse, code="A-02")]
    ProductFactory(id=11, sku="BOLT-M8")
    Movement.objects.bulk_create([
        Movement(**{name: parse_datetime(value) if name in _TIMES else value for name, value in row.items()})
        for row in LEDGER["movements"]
    ])
    head = LEDGER["head"]
    LedgerHead.objects.filter(id=1).update(position=head["position"], hash=head["hash"], recorded_at=parse_datetime(head["recorded_at"]))
    return user, locations


def test_a_ledger_written_before_lots_verifies_as_it_did(ledger_before_lots):
    assert not Movement.objects.exclude(chain_format=None).exists()
    report = verification.ledger_verify()
    assert (report.intact, report.events) == (True, len(LEDGER["movements"])), report
    assert verify_export.verify(export_lines())["intact"]


def test_events_written_since_chain_after_it_in_the_marked_format(ledger_before_lots, post, clerk):
    _, locations = ledger_before_lots
    milk = ProductFactory(sku="MILK-1L", tracking=Tracking.LOT)
    expires = (timezone.localdate() + timedelta(days=3)).isoformat()
    for code in ("A", "B"):
        post(kind="receipt", product=milk.pk, location=locations[0].pk, quantity="2", lot=code, expires_on=expires)
    post(kind="issue", product=milk.pk, location=locations[0].pk, quantity="3")  # split across A and B
    assert list(Movement.objects.order_by("position").values_list("chain_format", flat=True)) == [None] * 5 + [2] * 4
    assert verification.ledger_verify().intact
    assert verify_export.verify(export_lines())["intact"]


@pytest.mark.parametrize("column, value", [("reason", "forged"), ("chain_format", 2)])
def test_an_old_event_changed_or_passed_off_as_marked_is_caught(ledger_before_lots, column, value):
    behind_the_apps_back(f"UPDATE ledger_movement SET {column} = %s WHERE position = 3", [value])
    report = verification.ledger_verify()
    assert (report.intact, report.first_broken_position) == (False, 3)
    assert verify_export.verify(export_lines())["first_broken_line"] == 4


def test_a_new_events_lot_is_covered_by_its_link(ledger_before_lots, post):
    _, locations = ledger_before_lots
    milk = ProductFactory(sku="MILK-1L", tracking=Tracking.LOT)
    post(kind="receipt", product=milk.pk, location=locations[0].pk, quantity="2", lot="A")
    other = post(kind="receipt", product=milk.pk, location=locations[0].pk, quantity="2", lot="B")
    behind_the_apps_back("UPDATE ledger_movement SET lot_id = %s WHERE position = %s", [other.lot_id - 1, other.position])
    assert verification.ledger_verify().first_broken_position == other.position
