"""The PostgreSQL rebuild builds a fresh table and swaps it in: same shape, no half-built reads."""
import threading

import pytest
from django.db import connection, transaction

from projections.definitions import PRODUCT_LOCATION
from projections.models import ProductLocationStock
from projections.services import projection_rebuild, projections_catch_up
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
