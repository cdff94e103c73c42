"""The hash chain that makes tampering evident.

``link = sha256(UTF-8 of previous_link_hex + "\\n" + canonical(event))``, hex encoded. The canonical
form is the fields below, in this order, joined by ``|``, each written as:

- null: ``~``;
- ids and the position: decimal integers;
- decimals: normalized plain strings (``Decimal("10.500")`` -> ``10.5``, no exponent);
- times: whole microseconds since 1970-01-01T00:00:00Z;
- text: its length in characters, ``:``, then the text as it is (so any text has clear bounds).

The first link's previous link is ``GENESIS``. Anyone holding the rows can recompute the chain
with this page and a SHA-256. ``canonical_sql`` writes the same text inside PostgreSQL, so
verification can stream it (a test holds the two equal, byte for byte).
"""
import hashlib
from datetime import datetime, timedelta, timezone
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

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def _canonical_value(value) -> str:
    if value is None:
        return "~"
    if isinstance(value, str):
        return f"{len(value)}:{value}"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return str((value - EPOCH) // MICROSECOND)
    return str(value)


def canonical(values) -> str:
    """The canonical text of one event, from its values in ``CHAINED_FIELDS`` order."""
    return "|".join([_canonical_value(v) for v in values])


def link_text(previous: str, canonical_text: str) -> str:
    return hashlib.sha256(f"{previous}\n{canonical_text}".encode()).hexdigest()


def link(previous: str, values) -> str:
    return link_text(previous, canonical(values))


def canonical_sql(model, alias: str = "m") -> str:
    """A PostgreSQL expression giving ``canonical`` of a row of ``model``'s table."""
    parts = []
    for name in CHAINED_FIELDS:
        field = model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name)
        column = f"{alias}.{field.column}"
        kind = field.get_internal_type()
        if kind == "DecimalField":
            text = f"trim_scale({column})::text"
        elif kind == "DateTimeField":
            text = f"(extract(epoch FROM {column}) * 1000000)::bigint::text"
        elif kind in ("CharField", "TextField"):
            text = f"length({column})::text || ':' || {column}"
        else:
            text = f"{column}::text"
        parts.append(f"coalesce({text}, '~')")
    return f"concat_ws('|', {', '.join(parts)})"
