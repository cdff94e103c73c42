"""One error body for every answer under ``/api/``: ``{"code", "detail", "errors"?, ...}``.

DRF's own exceptions keep their status; validation errors become ``validation_error`` with
per-field messages; domain errors carry their code and data. The transaction is marked for
rollback, as DRF's own handler does.

What DRF's views never see gets the same body: an unknown address (``handler404``), a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 ``request_too_large``), an unhandled exception (500
``server_error`` with a ``request_id``, logged here with the traceback; see
``common.api.middleware``). Everywhere else (admin, pages) Django's HTML pages answer, as before.
The request line and headers a server refuses before Django sees them: ``common.gunicorn``.
"""
import logging
import sys
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from common.errors import AlreadyExists, DomainError

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
    if isinstance(exc, RequestDataTooBig):  # request.data read a body past the limit
        return Response(request_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
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
        if _codes(exc.get_codes()) == {"unique"}:
            # Valid input that names a SKU, code or name already taken: a conflict, not a bad request.
            body, status_code = AlreadyExists(errors).as_dict(), AlreadyExists.status
        else:
            body = {"code": "validation_error", "detail": _summary(errors), "errors": errors}
            status_code = status.HTTP_400_BAD_REQUEST
    else:
        code = _CODES.get(type(exc)) or getattr(exc, "default_code", "error")
        body = {"code": code, "detail": str(exc.detail)}
        status_code = exc.status_code
    set_rollback()
    return Response(body, status=status_code, headers=headers)


def _codes(codes) -> set[str]:
    """Every code in DRF's tree of error codes."""
    if isinstance(codes, dict):
        return set().union(*(_codes(value) for value in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_codes(value) for value in codes)) if codes else set()
    return {codes}


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


# ---------------------------------------------------------------------------------------------
# What DRF's views never see: Django's error handlers (wms/urls.py) and the API middleware.

logger = logging.getLogger(__name__)

NOT_FOUND = "There is no endpoint at this address; the API's endpoints are listed at /api/v1/docs/."
REQUEST_TOO_LARGE = (
    "The request body is larger than the {limit:,} bytes the API accepts; "
    "send the movements in smaller batches."
)
SERVER_ERROR = (
    "The server failed to answer this request. Quote request id {request_id} when you report it; "
    "a posting may be sent again with the same Idempotency-Key (it is never posted twice)."
)
_COMPACT = {"separators": (",", ":")}  # as DRF's JSONRenderer writes


def is_api(request) -> bool:
    """Under ``/api/``: answered in the API's error shape, never an HTML page."""
    path = request.path_info
    return path == "/api" or path.startswith("/api/")


def request_too_large_body() -> dict:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return {"code": "request_too_large", "detail": REQUEST_TOO_LARGE.format(limit=limit), "max_bytes": limit}


def error_response(status_code: int, code: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, **extra}, status=status_code, json_dumps_params=_COMPACT)


def server_error_response(request, exc_info) -> JsonResponse:
    """500 ``server_error`` with the request's id; the traceback goes to the log under that id, never
    into the body (whatever ``DEBUG`` says)."""
    request_id = getattr(request, "request_id", None) or "unknown"
    logger.error(
        "Internal server error, request id %s: %s %s", request_id, request.method, request.path,
        exc_info=exc_info, extra={"request_id": request_id, "status_code": 500, "request": request},
    )
    response = error_response(500, "server_error", SERVER_ERROR.format(request_id=request_id), request_id=request_id)
    # Logged above with the id and the traceback; Django's own record of it (django.request,
    # without the id) would repeat the traceback, or add a line without it.
    response._has_been_logged = True
    return response


# Django's status for what it refuses itself (handler400, handler403, the debug pages) -> our code.
_STATUS_CODES = {
    400: "malformed_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def response_for_status(request, status_code: int) -> JsonResponse:
    """The API's body for an error status that something other than a DRF view chose."""
    if status_code == 404:
        return error_response(404, "not_found", NOT_FOUND)
    if status_code == 413:
        return error_response(413, **request_too_large_body())
    if status_code == 500:
        return server_error_response(request, None)
    if status_code == 405:
        return error_response(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    code = _STATUS_CODES.get(status_code) or phrase.lower().replace(" ", "_").replace("-", "_")
    return error_response(status_code, code, f"{phrase}.")


def bad_request(request, exception):
    """handler400: a request Django refused as malformed or suspicious (say, an unknown Host)."""
    if is_api(request):
        return response_for_status(request, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    """handler403."""
    if is_api(request):
        return error_response(403, "permission_denied", str(exceptions.PermissionDenied.default_detail))
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    """handler404: no URL pattern matches (DRF's views answer their own 404s)."""
    if is_api(request):
        return response_for_status(request, 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: an exception nothing else handled (raised in a middleware, say; the views' own go
    through ``ApiErrorsMiddleware.process_exception``). Called while the exception is handled."""
    if is_api(request):
        return server_error_response(request, sys.exc_info())
    return defaults.server_error(request)
