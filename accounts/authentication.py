"""Token authentication that remembers each token's user, permissions included.

A clerk's scanner or an ERP posts thousands of movements an hour; looking up the token, the user
and the user's permissions costs three queries on every one. Each process keeps the users it has
authenticated, stamped with the "auth generation" they were read in. Any change to users, tokens,
groups or permissions moves the generation on (in the shared cache), and a process looks at the
shared generation at most once a second: a revoked token or a removed role takes effect in this
process at once and in every other within a second.
"""
import time

from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication

GENERATION_KEY = "auth:generation"
GENERATION_CHECK_INTERVAL = 1.0  # seconds

_known: dict[str, tuple[int, tuple]] = {}  # token key: (generation, (user, token))
_generation_seen = {"value": None, "at": 0.0}


def _current_generation() -> int:
    now = time.monotonic()
    if _generation_seen["value"] is None or now - _generation_seen["at"] > GENERATION_CHECK_INTERVAL:
        cache.add(GENERATION_KEY, 1, timeout=None)
        _generation_seen.update(value=cache.get(GENERATION_KEY, 1), at=now)
    return _generation_seen["value"]


def forget_cached_credentials(**_signal_kwargs) -> None:
    """Invalidate every remembered token, here at once and elsewhere within a second."""
    _known.clear()
    _generation_seen["value"] = None
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing was remembered under one either
        cache.add(GENERATION_KEY, 1, timeout=None)


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        generation = _current_generation()
        known = _known.get(key)
        if known is not None and known[0] == generation:
            return known[1]
        user, token = super().authenticate_credentials(key)
        user.get_all_permissions()  # fill the user's permission caches before it is kept
        _known[key] = (generation, (user, token))
        return user, token
