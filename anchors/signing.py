"""What an anchor signs, and the key it is signed with.

The signed message is ASCII text, the fields joined by ``|``::

    wms-ledger-anchor/1|POSITION|HASH|RECORDED_AT_US|ANCHORED_AT_US

``POSITION`` in decimal, ``HASH`` the 64 lower-case hex digits of the head's chain link, the two
times in whole microseconds since 1970-01-01T00:00:00Z (as ``ledger/chain.py`` writes times).
The signature is Ed25519 (RFC 8032) over those bytes. Keys, signatures and public keys are
standard base64 (RFC 4648, with padding): the private key is its 32-byte seed, the public key its
32-byte encoding. ``verifier/verify_export.py`` rebuilds the same bytes from an anchor as the API
publishes it and checks the signature with the standard library alone.
"""
import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from ledger.chain import EPOCH, MICROSECOND

MESSAGE_FORMAT = "wms-ledger-anchor/1"


def message(*, position: int, hash: str, recorded_at: datetime, anchored_at: datetime) -> bytes:
    """The exact bytes an anchor's signature covers."""
    fields = (MESSAGE_FORMAT, position, hash, (recorded_at - EPOCH) // MICROSECOND, (anchored_at - EPOCH) // MICROSECOND)
    return "|".join(map(str, fields)).encode("ascii")


@dataclass(frozen=True, slots=True)
class Signed:
    signature: str  # base64
    public_key: str  # base64


def _encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def signing_key() -> Ed25519PrivateKey | None:
    """The key from ``WMS_ANCHOR_SIGNING_KEY`` (settings check its form at start), or None: unsigned."""
    seed = settings.ANCHOR_SIGNING_SEED
    return None if seed is None else Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PrivateKey) -> str:
    return _encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(text: bytes) -> Signed | None:
    """``text`` signed with the configured key; None when no key is set."""
    key = signing_key()
    if key is None:
        return None
    return Signed(signature=_encode(key.sign(text)), public_key=public_key_text(key))
