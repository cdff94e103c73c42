"""Projections under real concurrency on PostgreSQL: parallel catch-ups and rebuilds during posting."""
import threading

import pytest

from projections.models import Checkpoint
from projections.selectors import projections_verify
from projections.services import projections_catch_up, projections_rebuild
from tests.factories import ProductFactory
from tests.replay import replay_in_python, stored
from tests.threads import Background, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def no_automatic_catch_up():
    """Keep postings from catching up by themselves, so the test decides when it happens."""
    from ledger.signals import movements_committed
    from projections.tasks import schedule_catch_up

    movements_committed.disconnect(dispatch_uid="projections.schedule_catch_up")
    yield
    movements_committed.connect(schedule_catch_up, dispatch_uid="projections.schedule_catch_up")


def test_concurrent_catch_ups_count_every_event_once(no_automatic_catch_up, post, bins):
    products = [ProductFactory() for _ in range(3)]
    for i in range(60):
        post(kind="receipt", product=products[i % 3].pk, location=bins[i % 2].pk, quantity="1")
    results = run_concurrently([projections_catch_up for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["stock_by_product_location"] for r in results) == 60
    assert stored() == replay_in_python()
    assert set(Checkpoint.objects.values_list("position", "events_applied")) == {(60, 60)}


def test_rebuilds_and_catch_ups_during_posting_end_consistent(post, bins):
    products = [ProductFactory() for _ in range(3)]
    writing = threading.Event()
    writing.set()

    def clerk(product):
        def run():
            for i in range(40):
                post(kind="receipt", product=product.pk, location=bins[i % 3].pk, quantity="2")
                if i % 3 == 2:
                    post(kind="transfer", product=product.pk, from_location=bins[i % 3].pk, to_location=bins[(i + 1) % 3].pk, quantity="1")
        return run

    def maintenance():
        rebuilt = 0
        while writing.is_set():
            projections_rebuild()
            projections_catch_up()
            rebuilt += 1
        return rebuilt

    maintainer = Background(maintenance)
    outcomes = run_concurrently([clerk(p) for p in products])
    writing.clear()
    assert maintainer.result() >= 1
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes

    projections_catch_up()
    assert stored() == replay_in_python()
    assert all(not v.differences for v in projections_verify())
