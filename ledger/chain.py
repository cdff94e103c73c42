"""The hash chain that makes tampering evident.

``link = sha256(UTF-8 of previous_link_hex + "\\n" + canonical(event))``, hex encoded. The canonical
form is an event's fields, in the order of its format (``FIELDS_BY_FORMAT``), joined by ``|``.
Events written before lots carry no format marker (``chain_format`` null) and keep the form they
were chained in (``LEGACY_FIELDS``); every later event marks its format, and the marker is the
first field its link covers, so no event can be passed off as written in another form. Each value
is written as:

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

LEGACY_FIELDS = (
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
FORMAT = 2  # what new events are written in: the marker, the legacy fields, the lot and the allocation
FIELDS_BY_FORMAT = {
    None: LEGACY_FIELDS,
    2: ("chain_format", *LEGACY_FIELDS, "lot_id", "allocation_id"),
}
# Every field any format covers, in a fixed order: what verification and the export read of an event.
CHAINED_FIELDS = tuple(dict.fromkeys(name for fields in FIELDS_BY_FORMAT.values() for name in fields))
_FORMAT_AT = CHAINED_FIELDS.index("chain_format")
_POSITIONS = {
    format_: [CHAINED_FIELDS.index(name) for name in fields] for format_, fields in FIELDS_BY_FORMAT.items()
}

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
    """The canonical text of a record's values, in order (the closes' chain uses it as it is)."""
    return "|".join([_canonical_value(v) for v in values])


def event_canonical(values) -> str:
    """The canonical text of one event, from its values in ``CHAINED_FIELDS`` order: the fields of
    its own format (a marker no format has gives a text no link matches)."""
    chosen = _POSITIONS.get(values[_FORMAT_AT])
    if chosen is None:
        return f"unknown chain format {values[_FORMAT_AT]!r}"
    return canonical([values[i] for i in chosen])


def link_text(previous: str, canonical_text: str) -> str:
    return hashlib.sha256(f"{previous}\n{canonical_text}".encode()).hexdigest()


def link(previous: str, values) -> str:
    return link_text(previous, canonical(values))


def event_link(previous: str, values) -> str:
    return link_text(previous, event_canonical(values))


def canonical_sql(model, alias: str = "m") -> str:
    """A PostgreSQL expression giving ``canonical`` of a row of ``model``'s table, in its format."""
    legacy, *marked = [
        (format_, _format_sql(model, alias, fields)) for format_, fields in FIELDS_BY_FORMAT.items()
    ]
    cases = " ".join(f"WHEN {alias}.chain_format = {format_} THEN {text}" for format_, text in marked)
    return f"(CASE WHEN {alias}.chain_format IS NULL THEN {legacy[1]} {cases} END)"


def _format_sql(model, alias: str, fields: tuple[str, ...]) -> str:
    parts = []
    for name in fields:
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
