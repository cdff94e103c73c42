"""The standalone verifier checks a signed anchor with the standard library alone (run as
``python3 -I``): RFC 8032's Ed25519 verification, then that the export holds the anchored head."""
import ast
import base64
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from anchors.models import AnchorSource
from anchors.services import anchor_record
from tests.ledger.test_export import VERIFIER, verify_export

pytestmark = pytest.mark.django_db


# RFC 8032, section 7.1 (Ed25519): secret key (the seed), public key, message, signature.
RFC_8032_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


@pytest.mark.parametrize(("seed", "public", "message", "signature"), RFC_8032_VECTORS)
def test_rfc_8032_vectors_verify_with_the_standard_library(seed, public, message, signature):
    public, message, signature = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)).sign(message) == signature  # the vector is right
    assert verify_export.ed25519_verify(public, message, signature)
    assert not verify_export.ed25519_verify(public, message + b"\x00", signature)
    flipped = bytearray(signature)
    flipped[5] ^= 0x01
    assert not verify_export.ed25519_verify(public, message, bytes(flipped))
    other_key = bytes.fromhex(RFC_8032_VECTORS[0][1] if public != bytes.fromhex(RFC_8032_VECTORS[0][1]) else RFC_8032_VECTORS[1][1])
    assert not verify_export.ed25519_verify(other_key, message, signature)


def test_signatures_by_cryptography_verify_and_their_alterations_do_not():
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    for length in (0, 1, 63, 64, 1000):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        message = os.urandom(length)
        signature = key.sign(message)
        assert verify_export.ed25519_verify(public, message, signature), length
        s = int.from_bytes(signature[32:], "little") + verify_export._L  # the same S, not reduced: malleable
        assert not verify_export.ed25519_verify(public, message, signature[:32] + s.to_bytes(32, "little"))
        assert not verify_export.ed25519_verify(public, message, signature[:63])


def test_the_apis_example_anchor_verifies_with_rfc_8032s_first_key():
    from anchors.api import _EXAMPLE

    key = base64.b64encode(bytes.fromhex(RFC_8032_VECTORS[0][1])).decode()
    assert _EXAMPLE["public_key"] == key
    assert verify_export.anchor_signature_problem(_EXAMPLE, key) is None
    assert _EXAMPLE["message"].encode() == verify_export.anchor_message(_EXAMPLE)


def test_the_verifier_imports_the_standard_library_only():
    tree = ast.parse(VERIFIER.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names


# ---------------------------------------------------------------------------------------------
# An anchor recorded by the application, checked by the verifier run on its own.

@pytest.fixture
def anchored(signing_key, public_key_text, receive, tmp_path, auditor_client):
    """Three events, an anchor of the head at 3 as the API publishes it, then a fourth event; the
    export of all four."""
    for quantity in ("5", "7", "1"):
        receive(quantity)
    anchor = anchor_record(source=AnchorSource.SCHEDULE).anchor
    published = auditor_client.get(f"/api/v1/anchors/{anchor.pk}/").json()
    receive("2")
    export = tmp_path / "ledger.jsonl"
    call_command("export_ledger", output=str(export))
    return export, published


def run_verifier(export: Path, anchor: dict, public_key: str, *args: str, tmp_path: Path) -> tuple[int, dict]:
    path = tmp_path / "anchor.json"
    path.write_text(json.dumps(anchor), encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), str(export), "--anchor", str(path),
                           "--public-key", public_key, *args], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_a_signed_anchor_verifies_against_the_export(anchored, public_key_text, tmp_path):
    export, anchor = anchored
    code, report = run_verifier(export, anchor, public_key_text, tmp_path=tmp_path)
    assert code == 0, report
    assert report["intact"] and report["events"] == 4
    assert report["anchor"] == {"position": 3, "hash": anchor["hash"], "anchored_at": anchor["anchored_at"]}


def test_the_commands_anchor_is_the_verifiers_input(signing_key, public_key_text, receive, tmp_path, capsys):
    receive()
    call_command("anchor_ledger")
    anchor = json.loads(capsys.readouterr().out)
    export = tmp_path / "ledger.jsonl"
    call_command("export_ledger", output=str(export))
    assert run_verifier(export, anchor, public_key_text, tmp_path=tmp_path)[0] == 0


@pytest.mark.parametrize(("field", "value"), [
    ("signature", "tampered"),
    ("hash", "0" * 64),
    ("position", 2),
    ("recorded_at", "2020-01-01T00:00:00Z"),
    ("anchored_at", "anchored later"),
])
def test_a_tampered_anchor_fails(anchored, public_key_text, tmp_path, field, value):
    export, anchor = anchored
    if value == "tampered":  # one bit of the signature
        raw = bytearray(base64.b64decode(anchor["signature"]))
        raw[40] ^= 0x04
        value = base64.b64encode(bytes(raw)).decode()
    elif value == "anchored later":  # by a microsecond
        value = (datetime.fromisoformat(anchor["anchored_at"]) + timedelta(microseconds=1)).isoformat()
    code, report = run_verifier(export, {**anchor, field: value}, public_key_text, tmp_path=tmp_path)
    assert code == 1 and not report["intact"]
    assert report["problem"].startswith("the anchor's signature does not verify with the public key given")


def test_an_anchor_checked_with_another_key_fails(anchored, tmp_path):
    export, anchor = anchored
    other = base64.b64encode(bytes.fromhex(RFC_8032_VECTORS[0][1])).decode()
    code, report = run_verifier(export, anchor, other, tmp_path=tmp_path)
    assert code == 1
    assert report["problem"] == (f"the anchor's signature does not verify with the public key given (the anchor names "
                                 f"another key, {anchor['public_key']}): it was not signed so")


def test_an_unsigned_anchor_is_no_proof(no_signing_key, receive, tmp_path, auditor_client):
    receive()
    anchor = auditor_client.get(f"/api/v1/anchors/{anchor_record(source=AnchorSource.API).anchor.pk}/").json()
    export = tmp_path / "ledger.jsonl"
    call_command("export_ledger", output=str(export))
    key = base64.b64encode(bytes.fromhex(RFC_8032_VECTORS[0][1])).decode()
    code, report = run_verifier(export, anchor, key, tmp_path=tmp_path)
    assert (code, report["problem"]) == (1, "the anchor is unsigned")


def _rechained(export: Path, *, edit_position: int, quantity: str) -> list[str]:
    """The export with one event's quantity (and delta) edited and every link from there recomputed:
    a rewritten history that holds together on its own."""
    lines = export.read_text(encoding="utf-8").splitlines()
    header, events = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    previous = header["previous_hash"]
    for event in events:
        if event["position"] == edit_position:
            event["quantity"] = event["delta"] = event["balance_after"] = quantity
        event["hash"] = previous = verify_export.link(previous, event)
    return [lines[0], *(json.dumps(event, ensure_ascii=False) for event in events)]


def test_a_history_rewritten_before_the_anchor_fails_even_re_chained(anchored, public_key_text, tmp_path):
    export, anchor = anchored
    rewritten = tmp_path / "rewritten.jsonl"
    rewritten.write_text("\n".join(_rechained(export, edit_position=1, quantity="50.000")) + "\n", encoding="utf-8")
    alone = subprocess.run([sys.executable, "-I", str(VERIFIER), str(rewritten)], capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0, "re-chained, the rewritten export holds together on its own"
    code, report = run_verifier(rewritten, anchor, public_key_text, tmp_path=tmp_path)
    assert code == 1
    assert report["problem"].startswith(f"position 3 carries {json.loads(rewritten.read_text().splitlines()[3])['hash']}, "
                                        f"not the anchored {anchor['hash']}: the ledger was rewritten")


def test_a_rewrite_after_the_anchor_is_not_its_to_catch(anchored, public_key_text, tmp_path):
    """The anchor pins the history up to its position; what came later needs a later anchor."""
    export, anchor = anchored
    rewritten = tmp_path / "rewritten.jsonl"
    rewritten.write_text("\n".join(_rechained(export, edit_position=4, quantity="20.000")) + "\n", encoding="utf-8")
    assert run_verifier(rewritten, anchor, public_key_text, tmp_path=tmp_path)[0] == 0


def test_an_export_without_the_anchored_position_fails(anchored, public_key_text, tmp_path):
    export, anchor = anchored
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("".join(lines[:3]), encoding="utf-8")  # the header and positions 1 and 2
    code, report = run_verifier(truncated, anchor, public_key_text, tmp_path=tmp_path)
    assert (code, report["problem"]) == (1, "the export ends at position 2, before the anchored head at 3: its tail is missing")
    later = tmp_path / "later.jsonl"
    call_command("export_ledger", output=str(later), after=3)
    code, report = run_verifier(later, anchor, public_key_text, tmp_path=tmp_path)
    assert code == 1 and report["problem"].startswith("the export starts after position 3, past the anchored position 3")


def test_an_edited_recorded_time_at_the_anchor_is_caught_as_a_broken_link(anchored, public_key_text, tmp_path):
    export, anchor = anchored
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    event = json.loads(lines[3])
    event["recorded_at"] = "2020-01-01T00:00:00.000000Z"
    lines[3] = json.dumps(event) + "\n"
    export.write_text("".join(lines), encoding="utf-8")
    code, report = run_verifier(export, anchor, public_key_text, tmp_path=tmp_path)
    assert (code, report["first_broken_line"]) == (1, 4)


def test_a_signed_anchor_whose_recorded_time_is_not_the_events_fails(anchored, signing_key, public_key_text, tmp_path):
    """Signed by the key, yet not what the ledger recorded: the export, not the signature, decides."""
    export, anchor = anchored
    forged = {**anchor, "recorded_at": "2026-01-01T00:00:00Z"}
    forged["signature"] = base64.b64encode(signing_key.sign(verify_export.anchor_message(forged))).decode()
    code, report = run_verifier(export, forged, public_key_text, tmp_path=tmp_path)
    assert (code, report["problem"]) == (
        1, f"position 3 was recorded at {json.loads(export.read_text().splitlines()[3])['recorded_at']}, not at the "
           f"anchored 2026-01-01T00:00:00Z")


def test_an_anchor_file_that_is_no_anchor_fails(anchored, public_key_text, tmp_path):
    export, _ = anchored
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), str(export), "--anchor", str(junk), "--public-key",
                           public_key_text], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and json.loads(done.stdout)["problem"].startswith("the anchor file is not JSON")
    for anchor in ([1, 2], {"position": "3"}, {"position": 3}):
        code, report = run_verifier(export, anchor, public_key_text, tmp_path=tmp_path)
        assert code == 1 and report["problem"].startswith("the anchor or the public key is unreadable"), anchor


def test_anchor_and_public_key_go_together(anchored, tmp_path):
    export, _ = anchored
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), str(export), "--public-key", "x"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "--anchor and --public-key go together" in done.stderr
