"""Each request's changes to master data carry who made them and through which request."""
from .context import recording


def describe_request(request) -> dict:
    """The user as authenticated by then (DRF's token user once the view has authenticated it),
    the method and path, and the request's id (``common.request_log``)."""
    user = getattr(request, "user", None)
    known = user is not None and user.is_authenticated
    return {
        "user": user.pk if known else None,
        "username": user.get_username() if known else None,
        "method": request.method,
        "path": request.path,
        "request_id": getattr(request, "request_id", None),
    }


class HistoryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with recording(lambda: describe_request(request)):
            return self.get_response(request)
