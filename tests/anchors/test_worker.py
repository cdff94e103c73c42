"""A real Celery worker, given the key in its environment as compose gives it, records the
end-of-day anchor, signed, when the beat's task reaches it."""
import base64
import os
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from anchors import signing
from anchors.models import Anchor
from anchors.tasks import anchor_ledger

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def worker_with_key(monkeypatch, request):
    """The worker started with WMS_ANCHOR_SIGNING_KEY set (and only the worker: not this process)."""
    seed = os.urandom(32)
    monkeypatch.setenv("WMS_ANCHOR_SIGNING_KEY", base64.b64encode(seed).decode())
    worker = request.getfixturevalue("celery_worker_process")
    return worker, Ed25519PrivateKey.from_private_bytes(seed)


def test_the_worker_records_the_end_of_day_anchor_signed(worker_with_key, no_signing_key, receive):
    worker, key = worker_with_key
    receive()
    anchor_ledger.delay()
    deadline = time.monotonic() + 60
    while (anchor := Anchor.objects.first()) is None:
        assert worker.poll() is None, "the worker died"
        assert time.monotonic() < deadline, "the worker recorded no anchor within 60 s"
        time.sleep(0.2)
    assert (anchor.position, anchor.source) == (1, "schedule")
    public = key.public_key()
    assert anchor.public_key == base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    public.verify(base64.b64decode(anchor.signature), signing.message(
        position=anchor.position, hash=anchor.hash, recorded_at=anchor.recorded_at, anchored_at=anchor.anchored_at))
