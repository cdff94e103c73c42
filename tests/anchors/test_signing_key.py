"""WMS_ANCHOR_SIGNING_KEY: base64 of a 32-byte Ed25519 seed, or unset; anything else stops the start."""
import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOW = "import django; django.setup(); from django.conf import settings; print(settings.ANCHOR_SIGNING_SEED)"


def _start_with(value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "wms.settings", "WMS_ANCHOR_SIGNING_KEY": value}
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_a_seed_in_base64_is_the_key_and_empty_is_none():
    seed = bytes(range(32))
    assert _start_with(base64.b64encode(seed).decode()).stdout.strip() == repr(seed)
    assert _start_with("").stdout.strip() == "None"


@pytest.mark.parametrize(("value", "problem"), [
    ("not base64 at all!", "the value set is not base64."),
    (base64.b64encode(bytes(16)).decode(), "the value set decodes to 16 bytes."),
    ("-----BEGIN PRIVATE KEY-----", "the value set is not base64."),
])
def test_a_key_of_another_form_stops_the_start_without_echoing_it(value, problem):
    started = _start_with(value)
    assert started.returncode != 0
    assert "ImproperlyConfigured: WMS_ANCHOR_SIGNING_KEY must be standard base64 of a 32-byte Ed25519 seed" in started.stderr
    assert problem in started.stderr and value not in started.stderr
