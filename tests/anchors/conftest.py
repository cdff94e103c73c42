"""Fixtures the anchors' tests share: a signing key in the settings, a ledger with a few events."""
import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@pytest.fixture
def signing_key(settings) -> Ed25519PrivateKey:
    """A fresh Ed25519 key, set as ``WMS_ANCHOR_SIGNING_KEY`` would set it."""
    seed = os.urandom(32)
    settings.ANCHOR_SIGNING_SEED = seed
    return Ed25519PrivateKey.from_private_bytes(seed)


@pytest.fixture
def no_signing_key(settings):
    settings.ANCHOR_SIGNING_SEED = None


@pytest.fixture
def public_key_text(signing_key) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@pytest.fixture
def receive(post, product, bins):
    """Post a receipt of ``quantity`` to the first bin; returns the movement."""
    def _receive(quantity: str = "5"):
        return post(kind="receipt", product=product.pk, location=bins[0].pk, quantity=quantity)

    return _receive
