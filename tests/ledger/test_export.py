"""The export and the standalone verifier: an auditor proves the ledger with the standard library
alone (the verifier runs as ``python3 -I``: no site packages, no Django, no database)."""
import importlib.util
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from ledger import chain
from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.selectors import ledger_head
from ledger.services import movement_post
from projections.selectors import stock_as_of

pytestmark = pytest.mark.django_db

VERIFIER = Path(__file__).resolve().parents[2] / "verifier" / "verify_export.py"
_spec = importlib.util.spec_from_file_location("verify_export", VERIFIER)
verify_export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify_export)


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


@pytest.fixture
def ledger_with_awkward_data(post, clerk, product, bins):
    """Every kind, a backdated receipt, a reversal, and text and numbers at their awkward edges."""
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="999999999999.999",
         unit_cost="0.0001", reference="PO|1 ~ 2:3", reason="line one\nline two\ttab ä 漢字 🙂", occurred_at=ago(10))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="0.001", occurred_at=ago(9))
    moved = post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk,
                 quantity="12.5", occurred_at=ago(8), key="k:with:colons|and|pipes")
    post(kind="count", product=product.pk, location=bins[1].pk, counted_quantity="20", occurred_at=ago(7))
    movement_post(user=clerk, movement=parse_reversal({"reason": "", "occurred_at": ago(6)}, movement_id=moved.pk))
    post(kind="receipt", product=product.pk, location=bins[2].pk, quantity="3", occurred_at=ago(11))  # backdated
    return product, bins


def export(tmp_path, **range_) -> Path:
    path = tmp_path / "ledger.jsonl"
    call_command("export_ledger", output=str(path), **range_)
    return path


def run_verifier(path: Path, *args: str) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), str(path), *args], capture_output=True, text=True,
                          timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_the_verifiers_canonical_form_equals_the_ledgers_on_awkward_data(ledger_with_awkward_data, tmp_path):
    events = [json.loads(line) for line in export(tmp_path).read_text(encoding="utf-8").splitlines()[1:]]
    rows = list(Movement.objects.order_by("position").values_list(*chain.CHAINED_FIELDS))
    assert len(events) == len(rows) == 6
    for event, row in zip(events, rows, strict=True):
        assert verify_export.canonical(event) == chain.event_canonical(row)


def test_an_intact_export_verifies_and_extends_the_saved_head(ledger_with_awkward_data, tmp_path):
    head = ledger_head()
    code, report = run_verifier(export(tmp_path), "--expect", f"{head.position}:{head.hash}")
    assert code == 0, report
    assert report == {"intact": True, "events": 6, "last_position": head.position, "last_hash": head.hash}


def test_an_edited_line_is_named(ledger_with_awkward_data, tmp_path):
    path = export(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = json.loads(lines[3])  # the third event
    edited["quantity"] = "13.000"
    lines[3] = json.dumps(edited, ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    code, report = run_verifier(path)
    assert code == 1
    assert (report["intact"], report["first_broken_line"], report["events"]) == (False, 4, 2)


def test_a_truncated_tail_is_caught_given_the_saved_head(ledger_with_awkward_data, tmp_path):
    head = ledger_head()
    path = export(tmp_path)
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:-2]), encoding="utf-8")
    assert run_verifier(path)[0] == 0  # alone, a shorter ledger is a valid ledger
    code, report = run_verifier(path, "--expect", f"{head.position}:{head.hash}")
    assert code == 1 and not report["intact"]
    assert report["problem"].startswith(f"the export ends at position {head.position - 2}, before the saved head")


def test_a_range_continues_from_the_link_before_it(ledger_with_awkward_data, tmp_path):
    code, report = run_verifier(export(tmp_path, after=2, upto=5))
    assert code == 0 and (report["events"], report["last_position"]) == (3, 5)


def test_the_verifiers_stock_equals_the_applications(ledger_with_awkward_data, tmp_path):
    product, bins = ledger_with_awkward_data
    path = export(tmp_path)
    for args, kwargs in (
        (("--stock-position", "4"), {"position": 4}),
        (("--stock-position", "6"), {"position": 6}),
        (("--stock-at", ago(8.5)), {"at": datetime.fromisoformat(ago(8.5))}),
    ):
        code, report = run_verifier(path, *args)
        assert code == 0, report
        ours = {(row["product"], row["location"]): row["quantity"] for row in report["stock"]}
        theirs = {(product.pk, location): verify_export.decimal_text(quantity)
                  for location, quantity in stock_as_of(product=product.pk, **kwargs).balances.items() if quantity}
        assert ours == theirs, args


def test_auditors_stream_the_same_export_from_the_api(ledger_with_awkward_data, tmp_path, auditor_client, clerk_client):
    response = auditor_client.get("/api/v1/ledger/export/?after=1&upto=4")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    streamed = b"".join(response.streaming_content).decode()
    assert streamed == export(tmp_path, after=1, upto=4).read_text(encoding="utf-8")
    path = tmp_path / "streamed.jsonl"
    path.write_text(streamed, encoding="utf-8")
    assert run_verifier(path)[0] == 0

    assert clerk_client.get("/api/v1/ledger/export/").status_code == 403
    refused = auditor_client.get("/api/v1/ledger/export/?after=3&upto=2")
    assert (refused.status_code, refused.json()["code"], list(refused.json()["errors"])) == (400, "validation_error", ["upto"])


def test_an_export_bound_past_the_head_is_the_head(ledger_with_awkward_data, auditor_client):
    head = ledger_head()
    for query, after in (("upto=99", 0), (f"after={head.position + 5}", head.position)):
        response = auditor_client.get(f"/api/v1/ledger/export/?{query}")
        assert response.status_code == 200, query
        lines = b"".join(response.streaming_content).decode().splitlines()
        header = json.loads(lines[0])
        assert (header["after"], header["upto"], len(lines) - 1) == (after, head.position, head.position - after), query
        if after:
            assert header["previous_hash"] == head.hash
