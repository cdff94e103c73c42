"""Reads of lots: what each holds now and whether it has expired.

A lot's on hand is the sum of its stock rows (``lot.stock``: the projections' stock per product,
location and lot, reached through the reverse relation so that the catalog imports nothing of
them). "Expired" is judged on today in the books' time zone. The books' zone is ``TIME_ZONE``
(``ledger.closes.books_zone`` is Django's default zone), so today there is
``timezone.localdate()``: the catalog, which must not import the ledger, reads it so.
"""
from datetime import date

from django.db.models import DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import QUANTITY, Lot

# A lot's total over its locations may pass what one location holds.
ON_HAND = {"max_digits": None, "decimal_places": QUANTITY["decimal_places"]}


def books_today() -> date:
    """Today in the books' time zone (``TIME_ZONE``), the day a lot's expiry is compared with."""
    return timezone.localdate()


def lots_with_on_hand() -> QuerySet[Lot]:
    """Every lot with its product and ``on_hand``: its stock over every location (0 without any);
    by product, then first-expiring first (without an expiry last, on both databases), then code.
    (A grouped query does not take the model's ordering: it is given here.)"""
    total = DecimalField(max_digits=42, decimal_places=QUANTITY["decimal_places"])
    return (
        Lot.objects.select_related("product")
        .annotate(on_hand=Coalesce(Sum("stock__quantity"), Value(0), output_field=total))
        .order_by("product_id", F("expires_on").asc(nulls_last=True), "code")
    )
