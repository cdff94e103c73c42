"""Token authentication that remembers each token's user, permissions included.

A clerk's scanner or an ERP posts thousands of movements an hour; looking up the token, the user
and the user's permissions costs three queries on every one. Each process remembers the users it
has authenticated until anything about users, tokens, groups or permissions changes (see
``common.generations``): a revoked token or a removed role takes effect in the changing process at
once and in every other within a second.
"""
from rest_framework.authentication import TokenAuthentication

from accounts.throttling import unknown_tokens_throttled
from common.generations import Generation

credentials = Generation("auth")


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        credentials.current()
        known = credentials.memo.get(key)
        if known is not None:
            return known
        user, token = super().authenticate_credentials(key)
        user.get_all_permissions()  # fill the user's permission caches before it is kept
        credentials.memo[key] = (user, token)
        return user, token

    def authenticate(self, request):
        """A client that keeps sending refused tokens gets 429; a valid token costs nothing more."""
        with unknown_tokens_throttled(request):
            return super().authenticate(request)
