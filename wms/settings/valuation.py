"""Valuation (``valuation``): the method a new product is valued by, from ``WMS_VALUATION_METHOD``
(``average``: moving weighted average, the default; or ``fifo``)."""
from django.core.exceptions import ImproperlyConfigured

from .env import env_str

VALUATION_METHODS = ("average", "fifo")
VALUATION_METHOD = env_str("WMS_VALUATION_METHOD", "average")
if VALUATION_METHOD not in VALUATION_METHODS:
    raise ImproperlyConfigured(f"WMS_VALUATION_METHOD must be one of {', '.join(VALUATION_METHODS)}, not {VALUATION_METHOD!r}")
