"""Probes and scrapes answered before anything looks at the request's host or scheme.

A load balancer's or an orchestrator's probe asks by the pod's address (a Host that
``ALLOWED_HOSTS`` does not list) over plain HTTP (which production mode redirects); Prometheus
scrapes ``web:8000``. Django's host check and the HTTPS redirect are for clients, so these three
paths are answered here, first in ``MIDDLEWARE``, and never reach them. They read nothing of the
request but its path.
"""
from . import metrics, views

PROBES = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": metrics.metrics}


class ProbesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
