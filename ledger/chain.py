"""The hash chain that makes tampering evident.

``link = sha256(previous_link_hex + "\\n" + canonical(event))``, hex encoded. The canonical form is a
compact JSON array of the fields below, in this order, each a string or null:

- Decimals as normalized plain strings (``Decimal("10.500")`` -> ``"10.5"``, no exponent);
- times in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
- ids and the position as decimal integers.

JSON gives each free-text field unambiguous bounds. The first link's previous link is ``GENESIS``.
Anyone holding the rows can recompute the chain with this page and a SHA-256.
"""
import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal

from .quantities import decimal_text

GENESIS = "0" * 64

CHAINED_FIELDS = (
    "position",
    "kind",
    "product_id",
    "location_id",
    "to_location_id",
    "quantity",
    "delta",
    "balance_after",
    "to_balance_after",
    "counted_quantity",
    "expected_quantity",
    "unit_cost",
    "occurred_at",
    "recorded_at",
    "user_id",
    "reference",
    "reason",
    "idempotency_key",
    "reverses_id",
)

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _canonical_value(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def canonical(values) -> str:
    """The canonical text of one event, from its values in ``CHAINED_FIELDS`` order."""
    return _encode([_canonical_value(v) for v in values])


def link(previous: str, values) -> str:
    return hashlib.sha256(f"{previous}\n{canonical(values)}".encode()).hexdigest()
