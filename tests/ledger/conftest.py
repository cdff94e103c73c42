"""Fixtures the ledger's test modules share."""
import pytest

from ledger.models import Movement


@pytest.fixture
def ledger(post, product, bins):
    """Four movements of every kind but a reversal, in ledger order."""
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", unit_cost="1.25")
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="4")
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="1", reason="damaged")
    post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="5")
    return list(Movement.objects.order_by("position"))
