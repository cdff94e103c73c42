"""HTTPS, cookies and login lockouts.

Production mode sits behind a proxy that ends TLS and says so in ``X-Forwarded-Proto``: plain HTTP
is redirected to HTTPS, browsers are told to keep to HTTPS (HSTS) and cookies go over HTTPS only.
The embedded default serves plain HTTP on localhost with none of that. Each can be set either way.

Failed logins (admin and the browsable API's login) are counted by django-axes per client address
and username, in the database, so the lockout holds when Redis is down.
"""
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from .env import PRODUCTION, env_bool, env_str  # PRODUCTION is a setting too: seed_demo refuses in it


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = env_str(name)
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value!r}")
    return number


# The proxy sets X-Forwarded-Proto (and drops any the client sent); only then is this safe.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out client before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # not the cache: works with Redis down
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]  # one address guessing one user's password
AXES_FAILURE_LIMIT = env_int("WMS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
# At least a minute: axes takes no cool-off (zero) as "locked until an admin resets".
AXES_COOLOFF_TIME = timedelta(minutes=env_int("WMS_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True  # a few typos before a good password do not count towards the next lockout
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"  # the same address as the token throttle
AXES_VERBOSE = False  # no banner at every start (workers, commands); lockouts are still logged
