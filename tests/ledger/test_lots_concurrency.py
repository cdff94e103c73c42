"""Lots under real concurrency on PostgreSQL: threads on their own connections, no mocks."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Tracking
from ledger.errors import InsufficientStock
from ledger.models import Movement, StockLevel
from ledger.parsing import parse_movement
from ledger.services import movement_post
from tests.factories import ProductFactory
from tests.threads import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _issue(user, product, location, **fields):
    body = {"kind": "issue", "product": product.pk, "location": location.pk, "quantity": "1", **fields}
    return lambda: movement_post(user=user, movement=parse_movement(body))


@pytest.mark.parametrize("named", [True, False], ids=["naming the lot", "first-expiring-first"])
def test_parallel_issues_of_a_lots_last_units_never_oversell(clerk, bins, named):
    milk = ProductFactory(sku="MILK-1L", tracking=Tracking.LOT)
    expires = (timezone.localdate() + timedelta(days=5)).isoformat()
    for code, quantity in (("A", "3"), ("B", "2")):
        body = {"kind": "receipt", "product": milk.pk, "location": bins[0].pk, "quantity": quantity, "lot": code, "expires_on": expires}
        movement_post(user=clerk, movement=parse_movement(body))
    fields = {"lot": "A"} if named else {}
    outcomes = run_concurrently([_issue(clerk, milk, bins[0], **fields) for _ in range(10)])
    posted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert len(posted) == (3 if named else 5) and len(posted) + len(refused) == 10, outcomes
    guard = {row.lot.code: row.quantity for row in StockLevel.objects.filter(product=milk).select_related("lot")}
    assert guard == ({"A": Decimal(0), "B": Decimal(2)} if named else {"A": Decimal(0), "B": Decimal(0)})
    issued = Movement.objects.filter(product=milk, kind="issue")
    assert sum(event.quantity for event in issued) == len(posted)
    assert sorted(issued.values_list("position", flat=True)) == list(range(3, 3 + len(posted)))
