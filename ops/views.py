"""Health for load balancers and orchestrators: no login (nothing secret); ``ops.middleware``
answers them."""
from django.http import JsonResponse

from . import health


def healthz(request) -> JsonResponse:
    """The process answers (liveness): nothing else is checked."""
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    """Ready to serve: 200, or 503 naming each failing part."""
    checks = health.readiness()
    ready = all(check.ok for check in checks if check.required)
    return JsonResponse(
        {
            "status": "ready" if ready else "not_ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail, "required": c.required} for c in checks},
        },
        status=200 if ready else 503,
    )
