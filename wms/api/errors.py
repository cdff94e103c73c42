"""One error body for every endpoint: ``{"code", "detail", "errors"?, ...}``.

DRF's own exceptions keep their status; validation errors become ``validation_error`` with
per-field messages; domain errors carry their code and data. The transaction is marked for
rollback, as DRF's own handler does.
"""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from wms.errors import DomainError

_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _flatten(detail):
    """DRF's ErrorDetail tree to plain strings, keeping its shape."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


NUMBER_TOO_LARGE = "A number in the request is larger than any id or quantity the ledger holds."


class DatabaseUnavailable(exceptions.APIException):
    """The database could not answer (it restarts, or a lock was held past lock_timeout). The same
    request with the same Idempotency-Key is safe to send again: it is never posted twice."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = (
        "The ledger could not answer (busy or restarting). Send the same request again shortly, "
        "with the same Idempotency-Key: it is never posted twice."
    )
    wait = 1


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, (OperationalError, InterfaceError)):
        exc = DatabaseUnavailable()
    elif isinstance(exc, OverflowError):
        # SQLite cannot even compare a number past 2^63: in a URL's id, no such record (as
        # PostgreSQL answers); anywhere else, a number out of range.
        in_path = bool(context.get("kwargs"))
        exc = exceptions.NotFound() if in_path else exceptions.ValidationError({"non_field_errors": [NUMBER_TOO_LARGE]})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        body = {"code": "validation_error", "detail": _summary(errors), "errors": errors}
        status_code = status.HTTP_400_BAD_REQUEST
    else:
        code = _CODES.get(type(exc)) or getattr(exc, "default_code", "error")
        body = {"code": code, "detail": str(exc.detail)}
        status_code = exc.status_code
    set_rollback()
    return Response(body, status=status_code, headers=headers)


def _summary(errors: dict) -> str:
    """One sentence for a person: the first field and its first message."""
    for field, messages in errors.items():
        first = messages
        while isinstance(first, (list, dict)) and first:
            first = first[0] if isinstance(first, list) else next(iter(first.values()))
        if field == "non_field_errors":
            return f"Invalid input: {first}"
        return f"Invalid input in '{field}': {first}"
    return "Invalid input."
