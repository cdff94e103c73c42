"""Token authentication that remembers each token's user, permissions included.

A clerk's scanner or an ERP posts thousands of movements an hour; looking up the token, the user
and the user's permissions costs three queries on every one. Each cache entry records the "auth
generation" it was made in, and any change to users, tokens, groups or permissions moves the
generation on, so a revoked token or a removed role takes effect on the next request, in every
process.
"""
from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication

GENERATION_KEY = "auth:generation"
ENTRY_TTL = 300  # seconds


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return generation


def forget_cached_credentials(**_signal_kwargs) -> None:
    """Invalidate every cached token (the generation moves on; old entries expire unread)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing is cached under one either
        cache.add(GENERATION_KEY, 1, timeout=None)


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        entry_key = f"auth:token:{key}"
        found = cache.get_many([GENERATION_KEY, entry_key])  # one round trip for both
        generation = found.get(GENERATION_KEY) or _generation()
        cached = found.get(entry_key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        user, token = super().authenticate_credentials(key)
        user.get_all_permissions()  # fill the user's permission caches before it is stored
        cache.set(entry_key, (generation, (user, token)), ENTRY_TTL)
        return user, token
