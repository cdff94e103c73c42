import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger.parsing import parse_reversal
from ledger.services import movement_post
from projections.definitions import PROJECTIONS
from projections.models import Checkpoint, ProductStock
from projections.selectors import projections_verify
from projections.services import projections_catch_up, projections_rebuild
from tests.replay import replay_in_python, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(post, clerk, product, bins):
    """A day of movements of every kind, a costed receipt reversed among them."""
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", unit_cost="2.00")
    wrong = post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="4", unit_cost="3.00")
    post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="5", unit_cost="4.00")
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[2].pk, quantity="3")
    post(kind="issue", product=product.pk, location=bins[2].pk, quantity="1")
    post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="6.5")
    movement_post(user=clerk, movement=parse_reversal({}, movement_id=wrong.pk))


def test_catch_up_applies_every_event_and_moves_the_checkpoints(day, bins, product):
    applied = projections_catch_up()
    assert set(applied.values()) == {7}
    assert stored() == replay_in_python()
    assert stored()["pair"] == {(product.pk, bins[0].pk): 6.5, (product.pk, bins[1].pk): 5, (product.pk, bins[2].pk): 2}
    assert set(Checkpoint.objects.values_list("position", "events_applied")) == {(7, 7)}


def test_average_cost_is_net_of_reversed_receipts(day, product):
    projections_catch_up()
    stock = ProductStock.objects.get(product=product)
    assert (stock.received_quantity, stock.received_value) == (15, 40)  # 10 x 2 + 5 x 4


def test_catch_up_twice_applies_nothing_twice(day):
    projections_catch_up()
    assert set(projections_catch_up().values()) == {0}
    assert stored() == replay_in_python()


def test_catch_up_in_small_chunks_gives_the_same_result(day):
    from projections.definitions import PROJECTIONS
    from projections.services import projection_catch_up

    for projection in PROJECTIONS:
        assert projection_catch_up(projection, chunk=2) == 7
    assert stored() == replay_in_python()


def test_rebuild_gives_what_catch_up_gives(day):
    projections_catch_up()
    before = stored()
    ProductStock.objects.all().delete()  # damage a projection: a rebuild must not care
    projections_rebuild()
    assert stored() == before == replay_in_python()
    assert all(c.rebuilt_at for c in Checkpoint.objects.all())


def test_posting_queues_a_catch_up_after_commit(post, product, bins, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="4")
    assert stored()["pair"] == {(product.pk, bins[0].pk): 4}


def test_nothing_is_queued_for_a_refused_posting(post, product, bins, django_capture_on_commit_callbacks):
    from ledger.errors import InsufficientStock

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(InsufficientStock):
        post(kind="issue", product=product.pk, location=bins[0].pk, quantity="4")
    assert callbacks == []


def test_verify_finds_no_difference_then_names_a_tampered_row(day, product, bins, capsys):
    projections_catch_up()
    assert all(not v.differences for v in projections_verify())
    call_command("verify_projections")
    assert "stock_by_product_location: matches the ledger" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projections_productlocationstock SET quantity = 99 WHERE location_id = %s", [bins[0].pk])
    [pair] = [v for v in projections_verify() if v.name == "stock_by_product_location"]
    assert [(d.key, d.stored[0], d.replayed[0]) for d in pair.differences] == [((product.pk, bins[0].pk), 99, 6.5)]
    with pytest.raises(CommandError, match="1 projection"):
        call_command("verify_projections")


def test_rebuild_command(day, capsys):
    call_command("rebuild_projections")
    assert "stock_by_product: rebuilt from 7 events" in capsys.readouterr().out
    assert stored() == replay_in_python()


def test_rebuild_command_can_queue_the_rebuild_for_a_worker(day, capsys):
    """With --queue the worker rebuilds (here, Celery's eager mode runs it at once)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM projections_productlocationstock")
    call_command("rebuild_projections", "--queue")
    assert capsys.readouterr().out.startswith("queued rebuild ")
    assert stored() == replay_in_python()
    assert Checkpoint.objects.filter(rebuilt_at__isnull=False).count() == len(PROJECTIONS)


def test_every_posting_catches_up_in_the_embedded_default(post, product, bins, django_capture_on_commit_callbacks):
    """Eager tasks run at once, so two postings in quick succession must each catch up."""
    for quantity in ("4", "5"):
        with django_capture_on_commit_callbacks(execute=True):
            post(kind="receipt", product=product.pk, location=bins[0].pk, quantity=quantity)
    assert stored()["pair"] == {(product.pk, bins[0].pk): 9}
