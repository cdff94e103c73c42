"""Slowing down clients that guess: who a client is, and how many refused tokens it may send.

A valid token costs nothing here: only a refused one (unknown, or its user inactive) is counted,
in the shared cache, per client address. Past the rate (``DEFAULT_THROTTLE_RATES["unknown_token"]``)
the client's refused tokens are answered 429 with ``Retry-After`` until its window has passed. The
count is a guard, not a record: when the cache cannot be reached the throttle lets requests through
rather than failing them.
"""
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager

from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_ip(request) -> str | None:
    """The client's address: DRF's ``get_ident`` (``X-Forwarded-For`` only per ``NUM_PROXIES``),
    or the connection's own address when the forwarded one is not an address at all."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


class UnknownTokenThrottle(SimpleRateThrottle):
    """Counts each client's refused tokens; past the rate, the client waits for its window."""

    scope = "unknown_token"
    detail = "Too many unknown or inactive tokens from this client."

    def get_ident(self, request) -> str | None:
        return client_ip(request)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refuse(self, request) -> None:
        """Count one refused token from this client; raise ``Throttled`` once it has sent too many."""
        try:
            allowed = self.allow_request(request, None)
        except Exception:  # the cache is unreachable (or answered nothing usable): let it through
            return
        if not allowed:
            # At least a second, so that the answer always carries a Retry-After.
            raise exceptions.Throttled(wait=max(self.wait() or self.duration, 1), detail=self.detail)


@contextmanager
def unknown_tokens_throttled(request) -> Iterator[None]:
    """Around token authentication: a refused token is counted, and past the rate answered 429."""
    try:
        yield
    except exceptions.AuthenticationFailed:
        UnknownTokenThrottle().refuse(request)
        raise
