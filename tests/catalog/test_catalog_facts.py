"""What posting knows of the catalog (catalog.selectors.catalog_facts): a small catalog is read whole
at a process's first miss, a larger one per posting of a product not seen yet; either way a
product added since is found, never taken for one that does not exist."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import Product
from catalog.selectors import catalog_changes, catalog_facts
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cold_process(bins):
    """A process that has remembered nothing yet (a new worker), with a few products in the catalog."""
    products = ProductFactory.create_batch(3)
    catalog_changes.memo.clear()
    catalog_facts([], [])  # the counter is read: only catalog reads are counted below
    return products


def catalog_reads(call) -> int:
    """Round trips reading the catalog (reading it whole takes two: its size, then its rows)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return sum("catalog_product" in q["sql"] for q in captured.captured_queries)


def test_a_small_catalog_is_read_whole_at_the_first_miss(cold_process, bins):
    first, second, third = cold_process
    assert catalog_reads(lambda: catalog_facts([first.pk], [bins[0].pk])) == 2
    facts = {}
    assert catalog_reads(lambda: facts.update(f=catalog_facts([second.pk, third.pk], [bins[1].pk, bins[2].pk]))) == 0
    assert facts["f"].products[third.pk].sku == third.sku
    assert facts["f"].locations[bins[2].pk].label == f"{bins[2].warehouse.code}/{bins[2].code}"


def test_a_larger_catalog_is_read_per_product_not_seen_yet(cold_process, bins, monkeypatch):
    monkeypatch.setattr(selectors, "WHOLE_CATALOG", 2)
    first, second, _ = cold_process
    assert catalog_reads(lambda: catalog_facts([first.pk], [bins[0].pk])) == 2  # its size, then the product
    assert catalog_reads(lambda: catalog_facts([first.pk], [bins[0].pk])) == 0
    assert catalog_reads(lambda: catalog_facts([second.pk], [bins[0].pk])) == 1


def test_a_product_added_after_the_whole_read_is_found(cold_process, bins):
    catalog_facts([cold_process[0].pk], [bins[0].pk])
    # Added as another process would add it (no signal): this process is not told, and its counter
    # of changes is read at most once a second.
    [added] = Product.objects.bulk_create([ProductFactory.build(sku="NEW-1", category=cold_process[0].category)])
    new = added.pk
    assert catalog_facts([new], [bins[0].pk]).products[new].sku == "NEW-1"
    assert 987654 not in catalog_facts([987654], [bins[0].pk]).products
