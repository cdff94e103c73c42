"""What a client asks the ledger to post, parsed and checked field by field.

One lean parser serves the single endpoint, the batch endpoint and the CSV import, so every path
applies the same rules; it is plain Python because a batch of thousands cannot afford a DRF
serializer per item. Errors map field names to messages, as DRF's do.
"""
import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from catalog.gs1 import parse_gs1, product_for_gtin
from catalog.models import LOT_CODE, LOT_CODE_RULE
from common.ids import MAX_ID
from common.text import text_problem

from .errors import MovementInvalid, RecordNotFound
from .models import MovementKind
from .quantities import MAX_QUANTITY, MAX_UNIT_COST, MONEY_PLACES, QUANTITY_PLACES, decimal_text, parse_decimal

MAX_REFERENCE = 64
MAX_REASON = 1000
MAX_KEY = 128
# Business times the ledger accepts: from the Unix epoch (older history belongs in an opening
# balance) to a small clock skew into the future.
EARLIEST_OCCURRED_AT = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)
FUTURE_TOLERANCE = timedelta(minutes=5)

POSTABLE_KINDS = (MovementKind.RECEIPT, MovementKind.ISSUE, MovementKind.TRANSFER, MovementKind.COUNT)
_COMMON = {"kind", "product", "occurred_at", "reference", "reason", "idempotency_key", "lot"}
# What makes a lot on its first receipt (or count): its dates.
LOT_DATES = ("expires_on", "manufactured_on")
FIELDS_BY_KIND = {
    MovementKind.RECEIPT: _COMMON | {"location", "quantity", "unit_cost", *LOT_DATES, "gs1"},
    MovementKind.ISSUE: _COMMON | {"location", "quantity", "gs1"},
    MovementKind.TRANSFER: _COMMON | {"from_location", "to_location", "quantity"},
    MovementKind.COUNT: _COMMON | {"location", "counted_quantity", *LOT_DATES},
}
REQUIRED_BY_KIND = {
    MovementKind.RECEIPT: ("product", "location", "quantity"),
    MovementKind.ISSUE: ("product", "location", "quantity"),
    MovementKind.TRANSFER: ("product", "from_location", "to_location", "quantity"),
    MovementKind.COUNT: ("product", "location", "counted_quantity"),
}


@dataclass(frozen=True, slots=True)
class NewMovement:
    """A movement to post (or, with ``reverses``, a reversal of one). Quantities are positive."""

    kind: str
    product: int | None  # None for a reversal: the original names it
    location: int | None
    to_location: int | None = None
    quantity: object = None  # Decimal; None for a count, whose quantity comes from the ledger
    counted_quantity: object = None
    unit_cost: object = None
    occurred_at: datetime | None = None
    reference: str = ""
    reason: str = ""
    idempotency_key: str | None = None
    reverses: int | None = None
    lot: str | None = None  # the lot's code, for a lot-tracked product (an issue or transfer may leave it to FEFO)
    expires_on: date | None = None  # a receipt's or count's, for the lot it names
    manufactured_on: date | None = None
    # For an item of a batch sent under one Idempotency-Key: the digest of the whole batch, so that
    # the same key with any other batch is a reused key, not a retry.
    batch_digest: str = ""

    def fingerprint(self) -> str:
        """SHA-256 of what was asked (the key aside), to tell a retry from a reused key. The same
        instant written with another UTC offset is the same request."""
        parts = [
            self.kind, self.product, self.location, self.to_location,
            *(decimal_text(v) if v is not None else None for v in (self.quantity, self.counted_quantity, self.unit_cost)),
            self.occurred_at.astimezone(dt_timezone.utc).isoformat() if self.occurred_at else None,
            self.reference, self.reason, self.reverses,
        ]
        if self.lot is not None or self.expires_on or self.manufactured_on:  # requests before lots keep theirs
            parts += [self.lot, *(day.isoformat() if day else None for day in (self.expires_on, self.manufactured_on))]
        if self.batch_digest:
            parts.append(self.batch_digest)
        return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def parse_id(raw, errors, field) -> int | None:
    text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        errors[field] = [f"A valid id (a positive integer) is required, not {raw!r}."]
        return None
    return int(text)


def _text(raw, errors, field, limit, *, multiline: bool = False) -> str:
    """Readable text (``common.text``): a reason may run over lines, a reference may not."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors[field] = ["Not a valid string."]
        return ""
    if len(raw) > limit:
        errors[field] = [f"Ensure this field has no more than {limit} characters."]
    problem = text_problem(raw, multiline=multiline)
    if problem:
        errors[field] = [problem]
    return raw.strip()


def parse_idempotency_key(raw, errors: dict, field: str = "idempotency_key") -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not raw.isprintable() or len(raw) > MAX_KEY:
        errors[field] = [f"An idempotency key is printable text of at most {MAX_KEY} characters."]
        return None
    return raw


def parse_occurred_at(raw, errors, now: datetime) -> datetime | None:
    """A business time in the accepted domain, in UTC."""
    if raw is None:
        return None
    try:
        # Python's parser stops at a NUL and Django's pattern lets a final newline through.
        readable = isinstance(raw, str) and raw.isprintable() and raw == raw.strip()
        value = parse_datetime(raw) if readable else None
    except ValueError:  # well-formed but impossible: hour 25, February 30th, an offset of a day
        value = None
    if value is None:
        errors["occurred_at"] = ["Not a valid date and time. Use ISO 8601, e.g. 2026-11-25T09:30:00Z."]
        return None
    if timezone.is_naive(value):
        errors["occurred_at"] = ["Include a time zone (Z or +hh:mm)."]
        return None
    try:
        value = value.astimezone(dt_timezone.utc)
    except OverflowError:  # year 1 with a positive offset, or year 9999 with a negative one
        value = None
    if value is None or value < EARLIEST_OCCURRED_AT:
        errors["occurred_at"] = [f"A movement cannot have occurred before {EARLIEST_OCCURRED_AT.isoformat()}."]
        return None
    if value > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = ["A movement cannot have occurred in the future."]
        return None
    return value


# What a GS1 string gives, by the field it stands for: the product (by its GTIN), the lot, its dates
# (a receipt's), and the quantity (AI 37, a count of trade items).
_SCANNED = ("product", "lot", *LOT_DATES, "quantity")
MAX_GS1 = 512  # a DataMatrix holds more, but no label for one item does
GS1_TEXT = re.compile(rf"[\x1d -~]{{1,{MAX_GS1}}}")


def _scanned(data: dict, kind: MovementKind) -> dict:
    """A receipt or issue that gives a scanned GS1 element string instead of its product, lot,
    dates and quantity: those fields, read from it (``catalog.gs1``; a malformed string is a 400
    ``gs1_invalid``). A field given both ways is refused; the quantity may come from the body where
    the label has no count."""
    raw = data["gs1"]
    if not isinstance(raw, str) or not GS1_TEXT.fullmatch(raw):
        raise MovementInvalid({"gs1": [
            f"A GS1 element string is 1 to {MAX_GS1} printable ASCII characters (FNC1 as GS), e.g. ]C10109506000134352109F3."
        ]})
    scan = parse_gs1(raw)
    product = product_for_gtin(scan.gtin)
    if product is None:
        raise RecordNotFound({"gs1": [f"No product has the barcode GTIN {scan.gtin}."]})
    read = {
        "product": product.pk, "lot": scan.lot,
        "expires_on": scan.expires_on.isoformat() if scan.expires_on and kind == MovementKind.RECEIPT else None,
        "manufactured_on": scan.manufactured_on.isoformat() if scan.manufactured_on and kind == MovementKind.RECEIPT else None,
        "quantity": decimal_text(scan.count) if scan.count is not None else None,
    }
    twice = {field: ["Given by the GS1 string too; send one or the other."]
             for field in _SCANNED if read[field] is not None and data.get(field) is not None}
    if twice:
        raise MovementInvalid(twice)
    rest = {name: value for name, value in data.items() if name != "gs1"}
    return {**rest, **{field: value for field, value in read.items() if value is not None}}


def _lot_fields(data: dict, errors: dict, allowed: set[str]) -> dict:
    """The lot a movement names (its code) and, for one it may make, the lot's dates."""
    values = {}
    if data.get("lot") is not None:
        code = data["lot"]
        if isinstance(code, str) and LOT_CODE.fullmatch(code):
            values["lot"] = code
        else:
            errors["lot"] = [LOT_CODE_RULE]
    for field in LOT_DATES:
        raw = data.get(field)
        if raw is None or field not in allowed:
            continue
        try:
            day = parse_date(raw) if isinstance(raw, str) and raw.isascii() and len(raw) == 10 else None
        except ValueError:  # well-formed but impossible: February 30th
            day = None
        if day is None:
            errors[field] = ["Not a valid date. Use YYYY-MM-DD, e.g. 2027-03-31."]
        else:
            values[field] = day
    made, expires = values.get("manufactured_on"), values.get("expires_on")
    if made and expires and made > expires:
        errors["manufactured_on"] = ["A lot cannot be made after it expires."]
    return values


def _record_fields(data: dict, errors: dict, header_key: str | None) -> dict:
    """What every posting may carry besides its movement: business time, reference, reason, key
    (the header's key wins over the body's)."""
    body_key = parse_idempotency_key(data.get("idempotency_key"), errors)
    return {
        "occurred_at": parse_occurred_at(data.get("occurred_at"), errors, timezone.now()),
        "reference": _text(data.get("reference"), errors, "reference", MAX_REFERENCE),
        "reason": _text(data.get("reason"), errors, "reason", MAX_REASON, multiline=True),
        "idempotency_key": header_key or body_key,
    }


def parse_movement(data, *, idempotency_key: str | None = None) -> NewMovement:
    """Check one movement's fields; raise ``MovementInvalid`` naming every bad field."""
    if not isinstance(data, dict):
        raise MovementInvalid({"non_field_errors": ["Expected an object with the movement's fields."]})
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in POSTABLE_KINDS:
        choices = ", ".join(POSTABLE_KINDS)
        raise MovementInvalid({"kind": [f"{kind!r} is not a movement kind; use one of {choices}."]})
    kind = MovementKind(kind)
    if data.get("gs1") is not None and "gs1" in FIELDS_BY_KIND[kind]:
        data = _scanned(data, kind)
    for field in sorted(set(data) - FIELDS_BY_KIND[kind]):
        errors[field] = [f"Unknown field for a {kind.value}."]
    for field in REQUIRED_BY_KIND[kind]:
        if data.get(field) is None:
            errors[field] = ["This field is required."]

    values: dict = {"kind": kind.value}
    if data.get("product") is not None:
        values["product"] = parse_id(data["product"], errors, "product")
    location_field = "from_location" if kind == MovementKind.TRANSFER else "location"
    if data.get(location_field) is not None:
        values["location"] = parse_id(data[location_field], errors, location_field)
    if kind == MovementKind.TRANSFER and data.get("to_location") is not None:
        values["to_location"] = parse_id(data["to_location"], errors, "to_location")
        if values["to_location"] is not None and values["to_location"] == values.get("location"):
            errors["to_location"] = ["A transfer moves stock between two different locations."]
    for field, places, allow_zero, maximum in (
        ("quantity", QUANTITY_PLACES, False, MAX_QUANTITY),
        ("counted_quantity", QUANTITY_PLACES, True, MAX_QUANTITY),
        ("unit_cost", MONEY_PLACES, True, MAX_UNIT_COST),
    ):
        if data.get(field) is not None and field in FIELDS_BY_KIND[kind]:
            try:
                values[field] = parse_decimal(data[field], places=places, allow_zero=allow_zero, maximum=maximum)
            except ValueError as exc:
                errors[field] = [str(exc)]
    values.update(_lot_fields(data, errors, FIELDS_BY_KIND[kind]))
    values.update(_record_fields(data, errors, idempotency_key))
    if errors:
        raise MovementInvalid(errors)
    return NewMovement(**values)


def parse_reversal(data, *, movement_id: int, idempotency_key: str | None = None) -> NewMovement:
    """A request to reverse ``movement_id``; the product and legs come from the original."""
    if not isinstance(data, dict):
        raise MovementInvalid({"non_field_errors": ["Expected an object (it may be empty)."]})
    errors: dict[str, list[str]] = {}
    for field in sorted(set(data) - {"occurred_at", "reference", "reason", "idempotency_key"}):
        errors[field] = ["Unknown field for a reversal."]
    values = _record_fields(data, errors, idempotency_key)
    if errors:
        raise MovementInvalid(errors)
    return NewMovement(
        kind=MovementKind.REVERSAL.value, product=None, location=None, reverses=movement_id, **values
    )


def keyed_batch(requests: list[NewMovement], key: str) -> list[NewMovement]:
    """A batch sent under one ``Idempotency-Key``: item ``i`` is keyed ``KEY:i``, and each item's
    fingerprint covers the whole batch, so a retry of the same batch replays it all and the same key
    with any other batch (even one that only adds or drops items) is a reused key."""
    if any(request.idempotency_key for request in requests):
        raise MovementInvalid({"Idempotency-Key": [
            "Give either one Idempotency-Key header for the whole batch or an idempotency_key per item, not both."
        ]})
    longest = f"{key}:{len(requests) - 1}"
    if len(longest) > MAX_KEY:
        raise MovementInvalid({"Idempotency-Key": [
            f"A batch key leaves room for ':<item>' within {MAX_KEY} characters; {longest!r} is too long."
        ]})
    digest = hashlib.sha256("".join(request.fingerprint() for request in requests).encode()).hexdigest()
    return [replace(request, idempotency_key=f"{key}:{item}", batch_digest=digest) for item, request in enumerate(requests)]
