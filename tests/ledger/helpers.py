"""Test helpers for the ledger: balances straight from the ledger."""
from decimal import Decimal

from django.db.models import Sum

from ledger.models import Movement, StockLevel


def ledger_sum(product, location) -> Decimal:
    """On-hand quantity recomputed from the events alone."""
    out = Movement.objects.filter(product=product, location=location).aggregate(s=Sum("delta"))["s"] or 0
    into = Movement.objects.filter(product=product, to_location=location).aggregate(s=Sum("delta"))["s"] or 0
    return Decimal(out) - Decimal(into)


def guard_quantity(product, location) -> Decimal:
    level = StockLevel.objects.filter(product=product, location=location).first()
    return level.quantity if level else Decimal(0)
