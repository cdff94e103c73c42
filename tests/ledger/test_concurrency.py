"""The ledger under real concurrency on PostgreSQL: threads on their own connections, no mocks."""
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from ledger.errors import AlreadyReversed, InsufficientStock
from ledger.models import Movement
from ledger.parsing import parse_movement, parse_reversal
from ledger.services import movement_post, movements_post
from tests.threads import Background, run_concurrently

from .helpers import guard_quantity, ledger_sum

# serialized_rollback: the flush after each test empties the tables the migrations filled (roles, head).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def issue(user, product, location, quantity="1", key=None):
    body = {"kind": "issue", "product": product.pk, "location": location.pk, "quantity": quantity}
    return lambda: movement_post(user=user, movement=parse_movement(body, idempotency_key=key))


def positions_after(last: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT position FROM ledger_movement WHERE position > %s ORDER BY position", [last])
        return [row[0] for row in cursor.fetchall()]


def test_clerks_issuing_the_last_units_at_once_never_oversell(post, clerk, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")
    results = run_concurrently([issue(clerk, product, bins[0]) for _ in range(12)])
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    posted = [r for r in results if not isinstance(r, Exception)]
    assert (len(posted), len(refused)) == (5, 7), results
    assert guard_quantity(product, bins[0]) == 0
    assert ledger_sum(product, bins[0]) == 0
    assert sorted(p.movement.balance_after for p in posted) == [0, 1, 2, 3, 4]


def test_opposite_transfers_of_several_products_never_deadlock(post, clerk, bins):
    from tests.factories import ProductFactory

    products = [ProductFactory(), ProductFactory()]
    for p in products:
        for b in bins[:2]:
            post(kind="receipt", product=p.pk, location=b.pk, quantity="100")

    def shuffle(forward: bool):
        a, b = (bins[0], bins[1]) if forward else (bins[1], bins[0])
        items = [
            {"kind": "transfer", "product": p.pk, "from_location": a.pk, "to_location": b.pk, "quantity": "1"}
            for p in (products if forward else products[::-1])
        ]
        return lambda: movements_post(user=clerk, movements=[parse_movement(i) for i in items])

    results = run_concurrently([shuffle(i % 2 == 0) for i in range(10)])
    assert not [r for r in results if isinstance(r, Exception)], results
    for p in products:
        assert guard_quantity(p, bins[0]) + guard_quantity(p, bins[1]) == 200
        assert ledger_sum(p, bins[0]) == guard_quantity(p, bins[0])


def test_one_key_posted_concurrently_is_posted_once(post, clerk, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="50")
    results = run_concurrently([issue(clerk, product, bins[0], key="scanner-7-0001") for _ in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.movement.pk for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert guard_quantity(product, bins[0]) == 49


def test_concurrent_reversals_reverse_once(post, clerk, product, bins):
    receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="5")

    def reverse():
        return movement_post(user=clerk, movement=parse_reversal({}, movement_id=receipt.pk))

    results = run_concurrently([reverse for _ in range(6)])
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, AlreadyReversed) for r in results if isinstance(r, Exception)), results
    assert guard_quantity(product, bins[0]) == 0


def test_a_late_commit_is_never_skipped_by_a_reader(post, clerk, product, bins):
    """Posting A holds its transaction open while posting B, started later, tries to commit.
    A reader remembering "the last position I saw" must end up with both, in order."""
    from tests.factories import ProductFactory

    other = ProductFactory()
    a_posted, release_a = threading.Event(), threading.Event()
    done = {}

    def posting_a():
        try:
            with transaction.atomic():
                done["a"] = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
                a_posted.set()
                assert release_a.wait(20)
        finally:
            connection.close()

    def posting_b():
        try:
            done["b"] = post(kind="receipt", product=other.pk, location=bins[1].pk, quantity="1")
        finally:
            connection.close()

    thread_a = threading.Thread(target=posting_a)
    thread_a.start()
    assert a_posted.wait(10)
    thread_b = threading.Thread(target=posting_b)
    thread_b.start()
    time.sleep(0.5)

    seen = positions_after(0)  # the reader looks while A is open and B is waiting
    assert seen == []
    assert "b" not in done, "B committed before A: a reader could have skipped A"

    release_a.set()
    thread_a.join(10)
    thread_b.join(10)
    assert positions_after(0) == [1, 2]
    assert (done["a"].position, done["b"].position) == (1, 2)


def test_a_reader_never_sees_a_gap_while_clerks_post(post, clerk, bins):
    """Four writers post as fast as they can; a reader polling "after the last position I saw"
    must see every position, contiguously, and in the end all of them."""
    from tests.factories import ProductFactory

    products = [ProductFactory() for _ in range(4)]
    writers_done = threading.Event()
    observed: list[int] = []

    def writer(product):
        def run():
            for _ in range(25):
                post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1")
        return run

    def reader():
        last = 0
        while True:
            finished = writers_done.is_set()
            batch = positions_after(last)
            assert batch == list(range(last + 1, last + 1 + len(batch))), f"gap after {last}: {batch[:5]}"
            observed.extend(batch)
            last = batch[-1] if batch else last
            if finished:
                return last

    reading = Background(reader)
    results = run_concurrently([writer(p) for p in products])
    writers_done.set()
    reading.result()
    assert not [r for r in results if isinstance(r, Exception)], results
    assert observed == list(range(1, 101))
    assert Movement.objects.count() == 100
    assert sum(guard_quantity(p, bins[0]) for p in products) == Decimal(100)
