"""Lot-tracked stock for the lots' read-side tests (the lots list, the expiry report, the trace),
posted through the ledger's service as the clerk, with the projections caught up after each
posting (a test's transaction never commits, so the worker would never see it)."""
import pytest

from catalog.models import Tracking
from projections.services import projections_catch_up
from tests.factories import ProductFactory


@pytest.fixture
def post(post):
    """The shared ``post``, then the projections caught up."""

    def _post(*args, **kwargs):
        posted = post(*args, **kwargs)
        projections_catch_up()
        return posted

    return _post


@pytest.fixture
def milk(db):
    return ProductFactory(sku="MILK-1L", name="Milk 1 l", tracking=Tracking.LOT, unit_price="1.2500")


def receive(post, product, location, quantity, lot, expires_on=None, **fields):
    """A receipt of ``quantity`` of ``lot`` (made by it, with ``expires_on`` if given)."""
    body = {"kind": "receipt", "product": product.pk, "location": location.pk, "quantity": str(quantity), "lot": lot}
    if expires_on is not None:
        body["expires_on"] = expires_on.isoformat()
    return post(**body, **fields)
