"""Fixtures the admin's test modules share."""
import pytest

from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.services import movement_post
from tests.factories import ProductFactory


@pytest.fixture
def day(post, clerk, product, bins):
    """A day of every kind, in ledger order: receipt, transfer A-01 → A-02, its reversal, issue, count
    (and a second product, so that a filter has something to leave out)."""
    other = ProductFactory(sku="NUT-M8")
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", unit_cost="1.25", reference="PO-1")
    transfer = post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="4")
    movement_post(user=clerk, movement=parse_reversal({"reason": "wrong bin"}, movement_id=transfer.pk))
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="1", reference="SO-7")
    post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="8")
    post(kind="receipt", product=other.pk, location=bins[2].pk, quantity="3")
    return list(Movement.objects.select_related("product", "location__warehouse", "to_location__warehouse").order_by("position"))
