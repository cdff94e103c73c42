"""The OpenAPI schema's shared parts: the one error body, the errors every operation can answer,
and request values described exactly as the API reads them.

Every error under ``/api/`` has one body (``common.api.errors``): ``{"code", "detail", "errors"?,
...extra}``. ``ErrorSerializer`` describes it once (component ``Error``, ``code`` an enum of every
code, each with an example in ``ERROR_EXAMPLES``). ``AutoSchema`` (``DEFAULT_SCHEMA_CLASS``) adds to
each operation the error responses it can give, by one rule over what the operation takes:

- every operation: 401, 403, 406, 414 and 431 (gunicorn's limits on the request line and headers,
  answered in the error body by ``common.gunicorn``), 429 (refused tokens are throttled per client),
  500, and 503 (the database could not answer);
- an operation that reads input (a body or query parameters): 400;
- a detail route (a path parameter) or a page-numbered list (a page past the last): 404;
- an operation with a body: 413 and 415.

These are response components (``#/components/responses/...``), each with its examples and
headers. What only some operations answer (409 with its codes, 422, a 404 of their own) they
declare in their ``@extend_schema`` with ``error_response``; the rule never replaces a response an
operation declares.

Requests: bodies are documented as JSON only (the form parsers serve the browsable API's HTML
forms); a list's query parameters take an empty value as "not given" (``allowEmptyValue``), ids
as whole numbers within a key's range, ``ordering`` the fields offered; text fields refuse what
DRF and ``catalog.serializers.ReadableCharField`` refuse; decimal strings are bounded as the
fields are. ``closed_input``, ``variants`` and ``list_input`` describe inputs parsed by hand (a
movement: one closed object per kind).
"""
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

import django_filters
from django import forms
from drf_spectacular import openapi
from drf_spectacular.drainage import set_override
from drf_spectacular.plumbing import ResolvedComponent, is_serializer
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.settings import api_settings

from common.ids import MAX_ID, IdField

# ---------------------------------------------------------------------------------------------
# The codes, by status, each with an example body.

CLOSE_EXAMPLE = {  # what a refusal says of the period close in force
    "id": 3, "action": "close", "through": "2026-10-31", "closed_before": "2026-11-01T00:00:00+00:00", "user": 5,
    "username": "fiona", "recorded_at": "2026-11-03T08:15:02.118203+00:00",
}
ERROR_EXAMPLES: dict[str, tuple[int, str, dict]] = {
    # code: (status, summary, example body)
    "validation_error": (400, "A field is invalid", {
        "code": "validation_error", "detail": "Invalid input in 'quantity': Must be greater than zero.",
        "errors": {"quantity": ["Must be greater than zero."]},
    }),
    "malformed_request": (400, "The body is not JSON", {
        "code": "malformed_request", "detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)",
    }),
    "inactive_product": (400, "The product is inactive", {
        "code": "inactive_product", "detail": "Product SKU-12 is inactive; it takes no new movements.", "product": 12,
    }),
    "inactive_location": (400, "The location is inactive", {
        "code": "inactive_location",
        "detail": "Location MAIN/A-01 is inactive (or its warehouse is); it takes no new movements.", "location": 3,
    }),
    "gs1_invalid": (400, "The scanned GS1 string is malformed", {
        "code": "gs1_invalid", "detail": "AI (01) GTIN 09506000134353: bad check digit 3, expected 2.",
        "errors": {"gs1": ["AI (01) GTIN 09506000134353: bad check digit 3, expected 2."]},
    }),
    "not_authenticated": (401, "No credentials", {
        "code": "not_authenticated", "detail": "Authentication credentials were not provided.",
    }),
    "authentication_failed": (401, "Unknown token", {"code": "authentication_failed", "detail": "Invalid token."}),
    "permission_denied": (403, "The role may not", {
        "code": "permission_denied", "detail": "You do not have permission to perform this action.",
    }),
    "not_found": (404, "No such record", {"code": "not_found", "detail": "Not found."}),
    "method_not_allowed": (405, "Method not allowed", {
        "code": "method_not_allowed", "detail": 'Method "DELETE" not allowed.',
    }),
    "not_acceptable": (406, "Accept names no JSON", {
        "code": "not_acceptable", "detail": "Could not satisfy the request Accept header.",
    }),
    "insufficient_stock": (409, "Not enough stock", {
        "code": "insufficient_stock", "detail": "Only 3 on hand of SKU-12 at MAIN/A-01; 5 requested.",
        "product": 12, "location": 3, "available": "3", "requested": "5",
        "shortages": [{"product": 12, "location": 3, "available": "3", "requested": "5"}],
    }),
    "on_hand_limit": (409, "On hand would pass the limit", {
        "code": "on_hand_limit",
        "detail": "On hand of SKU-12 at MAIN/A-01 would exceed 999999999999.999, the most the ledger holds.",
        "product": 12, "location": 3, "limit": "999999999999.999",
    }),
    "already_reversed": (409, "Already reversed", {
        "code": "already_reversed", "detail": "Movement 41 has already been reversed.", "movement": 41, "reversed_by": 57,
    }),
    "reversal_not_allowed": (409, "A reversal is not reversed", {
        "code": "reversal_not_allowed",
        "detail": "Movement 57 is itself a reversal; post the original movement again instead.", "movement": 57,
    }),
    "history_protected": (409, "The ledger's history depends on the field", {
        "code": "history_protected",
        "detail": "Product SKU-12 has movements in the ledger; its unit cannot change (it would rescale its history).",
        "field": "unit", "product": 12,
        "errors": {"unit": [
            "Product SKU-12 has movements in the ledger; its unit cannot change (it would rescale its history)."
        ]},
    }),
    "already_exists": (409, "The natural key is taken", {
        "code": "already_exists", "detail": "product with this SKU already exists.",
        "errors": {"sku": ["product with this SKU already exists."]},
    }),
    "reversal_before_original": (409, "A reversal dated before its original", {
        "code": "reversal_before_original",
        "detail": "A reversal cannot be dated before the movement it reverses (2026-11-25T09:30:00+00:00).",
        "movement": 41, "errors": {"occurred_at": [
            "A reversal cannot be dated before the movement it reverses (2026-11-25T09:30:00+00:00)."
        ]},
    }),
    "nothing_to_anchor": (409, "The ledger is empty", {
        "code": "nothing_to_anchor", "detail": "The ledger is empty: there is no head to anchor yet.",
    }),
    "no_forecast_run": (404, "Nothing forecast yet", {
        "code": "no_forecast_run",
        "detail": "No forecasting run yet: the nightly task or `manage.py forecast_run` makes one.",
    }),
    "export_not_ready": (409, "The export is not written yet", {
        "code": "export_not_ready", "detail": "Export 3 is running, not done.", "state": "running",
    }),
    "signing_key_not_set": (404, "Anchors are unsigned", {
        "code": "signing_key_not_set",
        "detail": "Anchors are not signed here: no signing key is set (WMS_ANCHOR_SIGNING_KEY).",
    }),
    "period_closed": (409, "Dated inside a closed period", {
        "code": "period_closed",
        "detail": "The books are closed through 2026-10-31 (close 3, closed by fiona at 2026-11-03T08:15:02.118203+00:00); "
        "no movement may be dated 2026-10-30T12:00:00+00:00.",
        "close": CLOSE_EXAMPLE, "occurred_at": "2026-10-30T12:00:00+00:00",
    }),
    "lot_expired": (409, "The lot named has expired", {
        "code": "lot_expired",
        "detail": "Lot L-2311 of MILK-1L expired on 2026-11-30; to move it anyway (to scrap it, say), give the reason.",
        "lot": 7, "lot_code": "L-2311", "expires_on": "2026-11-30",
    }),
    "lot_dates_differ": (409, "The lot has other dates", {
        "code": "lot_dates_differ",
        "detail": "Lot L-2311 of MILK-1L has expires_on 2026-11-30, not 2026-12-30; correct the lot first if it is wrong.",
        "lot": 7, "lot_code": "L-2311", "field": "expires_on", "recorded": "2026-11-30", "given": "2026-12-30",
    }),
    "gtin_ambiguous": (409, "Two products have the scanned GTIN", {
        "code": "gtin_ambiguous",
        "detail": "GTIN 00036000291452 is the barcode of more than one product (SOAP-1, SOAP-2); keep it on one.",
        "errors": {"gs1": ["GTIN 00036000291452 is the barcode of more than one product (SOAP-1, SOAP-2); keep it on one."]},
        "gtin": "00036000291452", "products": [4, 9],
    }),
    "period_already_closed": (409, "Closed through that date already", {
        "code": "period_already_closed",
        "detail": "The books are already closed through 2026-10-31 (close 3, closed by fiona at "
        "2026-11-03T08:15:02.118203+00:00); a new close must be through a later date.",
        "close": CLOSE_EXAMPLE,
    }),
    "period_not_closed": (409, "Not closed past that date", {
        "code": "period_not_closed",
        "detail": "The books are closed through 2026-10-31 (close 3, closed by fiona at 2026-11-03T08:15:02.118203+00:00); "
        "a reopening goes back to an earlier date.",
        "close": CLOSE_EXAMPLE,
    }),
    "reopen_by_closer": (409, "Four eyes: not one's own close", {
        "code": "reopen_by_closer",
        "detail": "The latest close is your own (close 3, closed by fiona at 2026-11-03T08:15:02.118203+00:00); "
        "another person who may reopen periods must reopen it.",
        "close": CLOSE_EXAMPLE,
    }),
    "request_too_large": (413, "The body is too large", {
        "code": "request_too_large",
        "detail": "The request body is larger than the 10,485,760 bytes the API accepts; send the movements in smaller batches.",
        "max_bytes": 10485760,
    }),
    "unsupported_media_type": (415, "The body is not JSON", {
        "code": "unsupported_media_type", "detail": 'Unsupported media type "text/plain" in request.',
    }),
    "idempotency_key_reused": (422, "The key was used with another body", {
        "code": "idempotency_key_reused",
        "detail": "Idempotency key '5f0c6a1e-9d1b-4a7e-8c1f-2b3d4e5f6a7b' was already used for movement 41 with a different body.",
        "idempotency_key": "5f0c6a1e-9d1b-4a7e-8c1f-2b3d4e5f6a7b", "movement": 41,
    }),
    "throttled": (429, "Too many refused tokens", {
        "code": "throttled", "detail": "Too many unknown or inactive tokens from this client.",
    }),
    "server_error": (500, "The server failed", {
        "code": "server_error",
        "detail": "The server failed to answer this request. Quote request id 0c8e7c2f9a8b4d6e8f1a2b3c4d5e6f70 when you "
        "report it; a posting may be sent again with the same Idempotency-Key (it is never posted twice).",
        "request_id": "0c8e7c2f9a8b4d6e8f1a2b3c4d5e6f70",
    }),
    "service_unavailable": (503, "The database could not answer", {
        "code": "service_unavailable",
        "detail": "The ledger could not answer (busy or restarting). Send the same request again shortly, "
        "with the same Idempotency-Key: it is never posted twice.",
    }),
}
ERROR_CODES = tuple(ERROR_EXAMPLES)


class ShortageSerializer(serializers.Serializer):
    item = serializers.IntegerField(required=False, help_text="The batch item (0-based).")
    product = serializers.IntegerField()
    location = serializers.IntegerField()
    available = serializers.CharField(help_text="Decimal string.")
    requested = serializers.CharField(help_text="Decimal string.")
    at = serializers.DateTimeField(required=False, help_text="For a backdated movement: the business time it fails at.")


class CloseFactsSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The close's place in the chain of closes.")
    action = serializers.ChoiceField(choices=["close", "reopen"])
    through = serializers.DateField(help_text="The books are closed through this business date.")
    closed_before = serializers.DateTimeField(help_text="No movement may be dated before this.")
    user = serializers.IntegerField()
    username = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class ErrorSerializer(serializers.Serializer):
    """Every error's body. ``code`` is for programs, ``detail`` for people; the other fields carry
    what a client needs to act on that code, and only with it."""

    code = serializers.ChoiceField(choices=ERROR_CODES)
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Per field, its messages (`validation_error`, `history_protected`); `non_field_errors` for the whole.",
    )
    item = serializers.IntegerField(required=False, help_text="The batch item (0-based) the error is about.")
    product = serializers.IntegerField(required=False)
    location = serializers.IntegerField(required=False)
    available = serializers.CharField(required=False, help_text="`insufficient_stock`: on hand (decimal string).")
    requested = serializers.CharField(required=False, help_text="`insufficient_stock`: asked for (decimal string).")
    at = serializers.DateTimeField(
        required=False, help_text="`insufficient_stock` of a backdated movement: the business time it fails at."
    )
    shortages = ShortageSerializer(
        many=True, required=False, help_text="`insufficient_stock`: every shortage (in a batch, each names its item), the first one also above."
    )
    limit = serializers.CharField(required=False, help_text="`on_hand_limit`: the largest on hand (decimal string).")
    movement = serializers.IntegerField(required=False)
    reversed_by = serializers.IntegerField(required=False, allow_null=True)
    field = serializers.CharField(required=False, help_text="`history_protected`: the field that cannot change.")
    idempotency_key = serializers.CharField(required=False)
    max_bytes = serializers.IntegerField(required=False, help_text="`request_too_large`: the largest body accepted.")
    request_id = serializers.CharField(required=False, help_text="`server_error`: quote it when you report it.")
    close = CloseFactsSerializer(
        required=False, help_text="`period_closed`, `period_already_closed`, `period_not_closed`, `reopen_by_closer`: the close in force.",
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="`period_closed`: the refused movement's business time.")


def error_examples(*codes: str) -> list[OpenApiExample]:
    """One response example per code, for the status each code is answered with."""
    return [
        OpenApiExample(code, ERROR_EXAMPLES[code][2], summary=ERROR_EXAMPLES[code][1], response_only=True,
                       status_codes=[str(ERROR_EXAMPLES[code][0])])
        for code in codes
    ]


def error_response(*codes: str, description: str = "") -> OpenApiResponse:
    """An operation's own error response (a 409 with its codes, say): the error body, an example per
    code, and the codes named in the description."""
    statuses = {ERROR_EXAMPLES[code][0] for code in codes}
    assert len(statuses) == 1, f"{codes} are answered with different statuses {statuses}"
    named = ", ".join(f"`{code}`" for code in codes)
    return OpenApiResponse(ErrorSerializer, description=f"{description} Codes: {named}.".strip(), examples=error_examples(*codes))


# ---------------------------------------------------------------------------------------------
# The error responses every operation shares, as response components.

_STRING = {"type": "string"}
_REQUEST_ID = {
    "schema": _STRING, "description": "This request's id (the proxy's `X-Request-ID`, or a new one).",
}
_RETRY_AFTER = {"schema": {"type": "integer", "minimum": 1}, "required": True, "description": "Seconds to wait."}


def _shared(
    status: int, description: str, codes: Sequence[str], headers: Mapping | None = None, examples: Mapping | None = None,
) -> dict:
    return {
        "status": str(status),
        "description": f"{description} Codes: {', '.join(f'`{code}`' for code in codes)}.",
        "examples": examples or {
            code: {"summary": ERROR_EXAMPLES[code][1], "value": ERROR_EXAMPLES[code][2]} for code in codes
        },
        "headers": {"X-Request-ID": _REQUEST_ID, **(headers or {})},
    }


SHARED_RESPONSES = {
    "BadRequest": _shared(400, "The input is invalid (`errors` names each field) or is not JSON.",
                          ["validation_error", "malformed_request"]),
    "Unauthorized": _shared(401, "No credentials, or a token the API does not know.",
                            ["not_authenticated", "authentication_failed"],
                            {"WWW-Authenticate": {"schema": _STRING, "required": True, "description": "`Token`."}}),
    "Forbidden": _shared(403, "The user's role does not allow it.", ["permission_denied"]),
    "NotFound": _shared(404, "No such record (or no such page: past the last).", ["not_found"]),
    "NotAcceptable": _shared(406, "`Accept` names no type the API answers in (it answers `application/json`).",
                             ["not_acceptable"]),
    "RequestTooLarge": _shared(413, "The body is larger than the API reads.", ["request_too_large"]),
    "UnsupportedMediaType": _shared(415, "The body is not `application/json`.", ["unsupported_media_type"]),
    # gunicorn refuses these before Django sees them (common.gunicorn answers them in the error body).
    "UriTooLong": _shared(414, "The request line (method, path and query) is longer than the server reads.",
                          ["request_too_large"], examples={"request_too_large": {"summary": "Request line too long", "value": {
                              "code": "request_too_large",
                              "detail": "The request line (method, path and query string) is longer than the 4,094 bytes the server reads.",
                          }}}),
    "HeadersTooLarge": _shared(431, "The headers are larger than the server reads.", ["request_too_large"],
                               examples={"request_too_large": {"summary": "Headers too large", "value": {
                                   "code": "request_too_large",
                                   "detail": "The request's headers are larger than the server reads: at most 100 fields of 8,190 bytes each.",
                               }}}),
    "Throttled": _shared(429, "Too many refused tokens from this client; wait `Retry-After` seconds.", ["throttled"],
                         {"Retry-After": _RETRY_AFTER}),
    "ServerError": _shared(500, "The server failed; the body's `request_id` finds it in the log.", ["server_error"]),
    "ServiceUnavailable": _shared(
        503, "The database could not answer; send the same request again (with the same `Idempotency-Key`).",
        ["service_unavailable"], {"Retry-After": _RETRY_AFTER},
    ),
}


def _operation_errors(operation: dict) -> list[str]:
    """The shared error responses this operation can give (names in ``SHARED_RESPONSES``)."""
    parameters = operation.get("parameters", [])
    query = {p["name"] for p in parameters if p["in"] == "query"}
    has_body = "requestBody" in operation
    names = [
        "Unauthorized", "Forbidden", "NotAcceptable", "UriTooLong", "HeadersTooLarge", "Throttled", "ServerError",
        "ServiceUnavailable",
    ]
    if has_body or query:
        names.append("BadRequest")
    if any(p["in"] == "path" for p in parameters) or query & {"page", "cursor"}:
        names.append("NotFound")
    if has_body:
        names += ["RequestTooLarge", "UnsupportedMediaType"]
    return names


NO_NUL = "^[^\\x00]*$"

# ---------------------------------------------------------------------------------------------
# Input described exactly: value domains, closed objects, variants told apart by a field.


def decimal_string(maximum: Decimal, places: int, *, zero: bool = True) -> dict:
    """A non-negative decimal string up to ``maximum`` (all nines: ``999.99``) with at most ``places``
    decimals, as written canonically (no sign, no exponent); ``zero=False``: greater than zero."""
    whole = len(str(int(maximum)))
    assert maximum == Decimal(10) ** whole - Decimal(1).scaleb(-places), f"{maximum} is not all nines"
    fraction = rf"(?:\.[0-9]{{1,{places}}})?"
    if zero:
        pattern = rf"^(?:0|[1-9][0-9]{{0,{whole - 1}}}){fraction}$"
    else:  # a whole part from 1, or 0 and a fraction that is not all zeros
        small = "|".join(f"{'0' * k}[1-9][0-9]{{0,{places - k - 1}}}" for k in range(places))
        pattern = rf"^(?:[1-9][0-9]{{0,{whole - 1}}}{fraction}|0\.(?:{small}))$"
    return {"type": "string", "format": "decimal", "pattern": pattern}


def _not_printable_bmp() -> str:
    """A regex class body of the Basic Multilingual Plane's characters ``str.isprintable`` refuses
    (surrogates aside: JSON text carries none). The plane only: schemathesis cannot generate from a
    pattern that names a character past U+FFFF, so the rest of Unicode goes unstated."""
    ranges, start = [], None
    for code in range(0x10001):
        refused = code <= 0xFFFF and not 0xD800 <= code <= 0xDFFF and not chr(code).isprintable()
        if refused and start is None:
            start = code
        elif not refused and start is not None:
            ranges.append(f"\\u{start:04x}" + ("" if start == code - 1 else f"-\\u{code - 1:04x}"))
            start = None
    return "".join(ranges)


_NOT_PRINTABLE = _not_printable_bmp()


def printable_text(max_length: int) -> dict:
    """Text of which every character is printable (``str.isprintable``: no control, format, separator
    other than the space, private-use or unassigned character), at most ``max_length`` long."""
    return {"type": "string", "maxLength": max_length, "pattern": f"^[^{_NOT_PRINTABLE}]*$"}


def id_integer(maximum: int) -> dict:
    """A record's id: a whole number from 1 to ``maximum`` (the largest key)."""
    return {"type": "integer", "minimum": 1, "maximum": maximum}


def closed(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """Mark a serializer whose input refuses fields it does not declare (``additionalProperties: false``)."""
    serializer_class.schema_closed = True
    return serializer_class


def _field_copy(field: serializers.Field, *, schema: dict | None = None, **kwargs) -> serializers.Field:
    """A new field like ``field`` with ``kwargs`` changed, and ``schema`` (if given) as its schema.
    (DRF copies declared fields from their constructor arguments, so changes go through them.)"""
    field_class = type(field)
    if schema is not None:
        field_class = type(field_class.__name__, (field_class,), {"schema_exact": schema})
        set_override(field_class, "field", schema)
    return field_class(*field._args, **{**field._kwargs, **kwargs})


def closed_input(
    serializer_class: type[serializers.Serializer], names: Sequence[str], *, component_name: str,
    required: Sequence[str] = (), schemas: Mapping[str, dict] | None = None, fixed: Mapping[str, str] | None = None,
    doc: str = "",
) -> type[serializers.Serializer]:
    """A closed input object made of some fields of ``serializer_class``: ``required`` among them,
    the others optional and nullable (null is "not given"); ``schemas`` replaces a field's schema (a
    value domain the field does not carry), ``fixed`` adds a field that takes one value."""
    schemas = schemas or {}
    declared = serializer_class._declared_fields
    attrs = {}
    for name in sorted(names, key=list(declared).index):
        optional = name not in required
        schema = schemas.get(name)
        if schema is not None and optional:
            schema = {**schema, "nullable": True}
        attrs[name] = _field_copy(declared[name], schema=schema, required=not optional, allow_null=optional)
    for name, value in (fixed or {}).items():
        attrs[name] = _field_copy(serializers.CharField(), schema={"type": "string", "enum": [value]})
    return closed(type(component_name, (serializers.Serializer,), {**attrs, "__doc__": doc or None}))


def list_input(
    component_name: str, key: str, child, *, min_items: int, max_items: int, doc: str = ""
) -> type[serializers.Serializer]:
    """An input object holding a list under ``key`` (``{"movements": [...]}``), ``min_items`` to
    ``max_items`` long; other keys are ignored, so the object is open."""
    items = serializers.ListField(child=child, min_length=min_items, max_length=max_items)
    return type(component_name, (serializers.Serializer,), {key: items, "__doc__": doc or None})


_VARIANTS: dict[str, PolymorphicProxySerializer] = {}


def variants(
    serializer_class: type[serializers.Serializer], *, discriminator: str, component_name: str,
    fields: Mapping[str, Sequence[str]], required: Mapping[str, Sequence[str]], schemas: Mapping[str, dict] | None = None,
) -> PolymorphicProxySerializer:
    """An input that is one of several closed objects told apart by ``discriminator`` (a movement by
    its ``kind``): for each value, the fields of ``serializer_class`` it takes, ``required`` among
    them. A component per value, ``<Value><component_name>``, and ``component_name`` for the choice."""
    if component_name not in _VARIANTS:
        members = {
            str(value): closed_input(
                serializer_class, [name for name in names if name != discriminator],
                component_name=f"{str(value).title()}{component_name}", required=required[value],
                schemas=schemas, fixed={discriminator: str(value)}, doc=f"A {value}.",
            )
            for value, names in fields.items()
        }
        _VARIANTS[component_name] = PolymorphicProxySerializer(
            component_name=component_name, serializers=members, resource_type_field_name=discriminator
        )
    return _VARIANTS[component_name]


TEXT_FIELDS = (serializers.CharField,)  # exactly CharField: its subclasses (email, choice...) have formats
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"  # Unicode's control characters (category Cc)


def _text_pattern(field: serializers.CharField) -> str:
    """What a text field takes: DRF's CharField refuses a NUL (and trims whitespace, so a required
    non-blank value needs more than whitespace); text a person reads (a field with ``multiline``,
    ``catalog.serializers.ReadableCharField``) refuses every control character but, in multiline
    text, tab and line breaks."""
    multiline = getattr(field, "multiline", None)
    if multiline is None:
        refused = "\\x00"
    elif multiline:
        refused = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
    else:
        refused = _CONTROL
    if field.allow_blank or not field.trim_whitespace:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"


def _filter_schema(filter_, documented: dict) -> dict:
    """A filter's query value as the filter reads it: ids as whole numbers within their field's bounds."""
    if isinstance(filter_, django_filters.ModelChoiceFilter):
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    field_class = getattr(filter_, "field_class", None)
    if isinstance(field_class, type) and issubclass(field_class, IdField):
        field = field_class(**filter_.extra)
        return {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
    if isinstance(field_class, type) and issubclass(field_class, forms.CharField) and documented.get("type") == "string":
        return {**documented, "pattern": NO_NUL}  # Django's form fields refuse a NUL
    return documented


def _ordering_schema(fields: Sequence[str]) -> dict:
    if not fields:
        return {"type": "string"}
    term = "-?(?:" + "|".join(re.escape(field) for field in fields) + ")"
    return {"type": "string", "pattern": f"^{term}(?:,{term})*$"}


# ---------------------------------------------------------------------------------------------
# The rule.


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, with the error responses each operation can give (``get_operation``)
    and request values described as the API reads them (parameters, text, decimals, ids, closed objects)."""

    def map_parsers(self):
        return ["application/json"]

    def _get_request_for_media_type(self, serializer, direction="request"):
        """drf-spectacular requires a body when its object has required fields; a body that is one
        of several closed objects (a movement of one kind) has them in every variant."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if not required and is_serializer(serializer):
            component = self.resolve_serializer(serializer, direction)
            required = bool(component.schema and component.schema.get("oneOf"))
        return schema, required

    # Query parameters of lists (filters, search, ordering, pages): exactly what they accept. An
    # empty value is "not given" (``common.api.filters``, ``common.api.pagination``): ``allowEmptyValue``.

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        filterset_class = getattr(self.view, "filterset_class", None)
        filters = filterset_class.base_filters if filterset_class is not None else {}
        for parameter in parameters:
            name = parameter["name"]
            if name in filters:
                parameter["schema"] = _filter_schema(filters[name], parameter["schema"])
            elif name == getattr(self.view, "search_param", api_settings.SEARCH_PARAM):
                parameter["schema"] = {"type": "string", "pattern": NO_NUL}  # DRF refuses a NUL
            elif name == getattr(self.view, "ordering_param", api_settings.ORDERING_PARAM):
                parameter["schema"] = _ordering_schema(self._ordering_fields())
                parameter["description"] = (
                    "Comma-separated fields to order by, each optionally prefixed with `-` (descending)."
                )
            parameter["allowEmptyValue"] = True
        return parameters

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        for parameter in parameters:
            name = parameter["name"]
            if name == getattr(paginator, "page_size_query_param", None):
                maximum = getattr(paginator, "max_page_size", None)
                parameter["schema"] = {"type": "integer", "minimum": 1, **({"maximum": maximum} if maximum else {})}
            elif name == getattr(paginator, "page_query_param", None):
                parameter["schema"] = {"type": "integer", "minimum": 1}
            parameter["allowEmptyValue"] = True
        return parameters

    def _ordering_fields(self) -> list[str]:
        fields = getattr(self.view, "ordering_fields", None)
        if fields in (None, "__all__"):
            return []
        return [field if isinstance(field, str) else field[0] for field in fields]

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and getattr(field, "schema_exact", None) is None:
            if isinstance(field, serializers.PrimaryKeyRelatedField) and schema.get("type") == "integer":
                schema.update(minimum=1, maximum=MAX_ID)  # an id; one past any key is no id
            elif type(field) in TEXT_FIELDS or hasattr(field, "multiline"):
                schema["pattern"] = _text_pattern(field)
        # DRF's decimal as a string: drf-spectacular's pattern takes a sign, an empty string and more
        # whole digits than the bounds allow; a non-negative (or positive) field bounded by nines is exact here.
        if (
            isinstance(field, serializers.DecimalField) and schema.get("type") == "string" and "pattern" in schema
            and field.min_value is not None and field.max_value is not None
            and Decimal(field.min_value) in (0, Decimal(1).scaleb(-field.decimal_places))
        ):
            # a least value of one unit of the last place (a pack size of 0.001) is "greater than zero"
            try:
                exact = decimal_string(Decimal(field.max_value), field.decimal_places, zero=field.min_value == 0)
            except AssertionError:
                return schema
            schema["pattern"] = exact["pattern"]
        return schema

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        exact = getattr(field, "schema_exact", None)
        if exact is not None:  # the schema given is the whole truth: no minLength, its description
            meta.pop("minLength", None)
            if "description" in exact:
                meta.pop("description", None)
        return meta

    def _insert_field_validators(self, field, schema):
        if getattr(field, "schema_exact", None) is None:
            super()._insert_field_validators(field, schema)

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        for name, prop in schema.get("properties", {}).items():
            # drf-spectacular lets a blank value past a pattern with oneOf [pattern, maxLength 0]; the
            # text patterns here take the blank value themselves (and oneOf would refuse it: both match).
            branches = prop.get("oneOf")
            if branches and len(branches) == 2 and branches[1] == {"type": "string", "maxLength": 0} \
                    and re.match(branches[0].get("pattern", "x"), ""):
                rest = {key: value for key, value in prop.items() if key != "oneOf"}
                schema["properties"][name] = {**branches[0], **rest}
        if direction == "request" and getattr(serializer, "schema_closed", False):
            schema["additionalProperties"] = False
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for name in _operation_errors(operation):
            shared = SHARED_RESPONSES[name]
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.RESPONSE, object=name,
                schema=self._shared_response(shared, error),
            )
            registry.register_on_missing(component)
            responses.setdefault(shared["status"], component.ref)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    @staticmethod
    def _shared_response(shared: dict, error_ref: dict) -> dict:
        return {
            "description": shared["description"],
            "headers": shared["headers"],
            "content": {"application/json": {"schema": error_ref, "examples": shared["examples"]}},
        }
