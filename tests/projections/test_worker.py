"""A real Celery worker, with the local Redis as broker, keeps the projections up to date."""
import time

import pytest

from projections.models import ProductLocationStock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_real_worker_updates_the_projection_after_a_posting(celery_worker_process, post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="7")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = ProductLocationStock.objects.filter(product=product, location=bins[0]).first()
        if row is not None and row.quantity == 7:
            break
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not update the projection within 60 s")
