"""Under ``/api/``: no error leaves as an HTML page.

- The request's id (``common.request_log`` gives it, and sends it back in ``X-Request-ID``) is
  quoted in a 500's body and log record, so an operator finds the traceback a client reports.
- An exception a view did not handle (DRF's handler answers the ones it knows) is a 500
  ``server_error``, logged with its traceback, whatever ``DEBUG`` says; a body over the limit read
  outside DRF is a 413. Django's signal ``got_request_exception`` is sent as Django would.
- Anything else Django answers itself goes through the error handlers of ``wms/urls.py``; with
  ``DEBUG`` on, Django answers some errors with its debug pages instead (an unknown address, an
  exception in a middleware): under ``/api/`` those become the API's body for their status too.

It comes right after the request log in ``MIDDLEWARE``, so that it answers for whatever fails after it.
"""
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework.response import Response

from .errors import error_response, is_api, request_too_large_body, response_for_status, server_error_response

# What a client needs from a page that is replaced by the API's body.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _is_json(response) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class ApiErrorsMiddleware:
    """The API's error body for everything under ``/api/``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        response = self.get_response(request)
        # DRF's own answers are negotiated (JSON, or the browsable API's page for a browser).
        if response.status_code >= 400 and not isinstance(response, Response) and not _is_json(response):
            page, response = response, response_for_status(request, response.status_code)
            for header in _KEPT_HEADERS:
                if header in page:
                    response[header] = page[header]
        return response

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_response(413, **request_too_large_body())
        if isinstance(exception, (Http404, PermissionDenied, SuspiciousOperation, BadRequest)):
            return None  # Django's own answer, through the handlers in wms/urls.py
        signals.got_request_exception.send(sender=None, request=request)
        return server_error_response(request, (type(exception), exception, exception.__traceback__))
