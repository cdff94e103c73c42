"""The PostgreSQL rebuild builds a fresh table and swaps it in: same shape, no half-built reads."""
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from catalog.models import Tracking
from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.services import movement_post
from projections.definitions import PRODUCT_LOCATION
from projections.models import LocationStock, LotStock, ProductLocationStock, ProductStock
from projections.selectors import projections_verify
from projections.services import projection_rebuild, projections_catch_up, projections_rebuild
from tests.factories import ProductFactory
from tests.threads import Background

pytestmark = pytest.mark.postgres


def shape(table: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        return {"indexes": indexes, "constraints": cursor.fetchall(), "sequence": _sequence(cursor, table)}


def _sequence(cursor, table):
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_rebuild_keeps_the_tables_names_indexes_and_constraints(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")
    projections_catch_up()
    before = shape(PRODUCT_LOCATION.table)
    projection_rebuild(PRODUCT_LOCATION)
    assert shape(PRODUCT_LOCATION.table) == before
    post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="2")  # new row after the swap
    projections_catch_up()
    assert sorted(ProductLocationStock.objects.values_list("location_id", "quantity")) == [(bins[0].pk, 3), (bins[1].pk, 2)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reader_during_a_rebuild_sees_complete_rows_never_an_error(post, product, bins):
    for location in bins:
        post(kind="receipt", product=product.pk, location=location.pk, quantity="1")
    projections_catch_up()
    swapped, release = threading.Event(), threading.Event()

    def rebuild_held_open():
        with transaction.atomic():
            projection_rebuild(PRODUCT_LOCATION)
            swapped.set()
            assert release.wait(20)

    rebuilding = Background(rebuild_held_open)
    assert swapped.wait(20)
    reading = Background(lambda: sorted(ProductLocationStock.objects.values_list("location_id", "quantity")))
    release.set()
    rebuilding.result()
    assert reading.result() == [(b.pk, 1) for b in bins]


@pytest.mark.django_db
def test_rebuilding_every_projection_from_one_read_equals_each_projections_own_query(post, clerk, product, bins):
    """Costed and uncosted receipts, a costed receipt and a transfer reversed, a count, and a
    product tracked by lot: each table equals its projection's query over the ledger, and the
    figures are the ones worked by hand."""
    here, there = bins[0].pk, bins[1].pk
    post(kind="receipt", product=product.pk, location=here, quantity="10", unit_cost="1.25")
    wrong = post(kind="receipt", product=product.pk, location=here, quantity="4", unit_cost="2.00")
    post(kind="receipt", product=product.pk, location=there, quantity="3")  # no cost: not in the average
    moved = post(kind="transfer", product=product.pk, from_location=here, to_location=there, quantity="2.5")
    movement_post(user=clerk, movement=parse_reversal({}, movement_id=wrong.pk))
    movement_post(user=clerk, movement=parse_reversal({}, movement_id=moved.pk))
    post(kind="count", product=product.pk, location=there, counted_quantity="2")
    milk = ProductFactory(tracking=Tracking.LOT)
    post(kind="receipt", product=milk.pk, location=here, quantity="6", unit_cost="0.80", lot="L-1")
    post(kind="receipt", product=milk.pk, location=here, quantity="5", unit_cost="0.90", lot="L-2")
    post(kind="transfer", product=milk.pk, from_location=here, to_location=there, quantity="7")  # FEFO: L-1 6, L-2 1

    assert projections_rebuild() == {name: Movement.objects.count() for name in (
        "stock_by_product_location", "stock_by_product", "stock_by_location", "stock_by_lot")}

    assert all(not result.differences for result in projections_verify())
    bolt = ProductStock.objects.get(product=product)
    assert (bolt.quantity, bolt.received_quantity, bolt.received_value) == (12, 10, Decimal("12.5"))
    assert sorted(ProductLocationStock.objects.values_list("product_id", "location_id", "quantity")) == sorted([
        (product.pk, here, 10), (product.pk, there, 2), (milk.pk, here, 4), (milk.pk, there, 7),
    ])
    assert dict(LocationStock.objects.values_list("location_id", "quantity")) == {here: 14, there: 9}
    assert sorted(LotStock.objects.values_list("location_id", "lot__code", "quantity")) == [
        (here, "L-1", 0), (here, "L-2", 4), (there, "L-1", 6), (there, "L-2", 1),  # a row emptied stays, as a catch-up leaves it
    ]
