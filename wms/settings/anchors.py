"""The key that signs anchors (anchors/signing.py), from ``WMS_ANCHOR_SIGNING_KEY``: an Ed25519
private key as standard base64 of its 32-byte seed (one line, as an env file holds it). Unset or
empty: anchors are recorded unsigned. A value of another form stops the start-up, without echoing it."""
import base64
import binascii

from django.core.exceptions import ImproperlyConfigured

from .env import env_str

_KEY_FORM = (
    "WMS_ANCHOR_SIGNING_KEY must be standard base64 of a 32-byte Ed25519 seed (44 characters, from "
    "python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'); {problem}"
)


def _seed(value: str) -> bytes | None:
    value = value.strip()
    if not value:
        return None
    try:
        seed = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ImproperlyConfigured(_KEY_FORM.format(problem="the value set is not base64.")) from None
    if len(seed) != 32:
        raise ImproperlyConfigured(_KEY_FORM.format(problem=f"the value set decodes to {len(seed)} bytes."))
    return seed


ANCHOR_SIGNING_SEED = _seed(env_str("WMS_ANCHOR_SIGNING_KEY"))
