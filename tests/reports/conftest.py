import pytest


@pytest.fixture
def stocked(post, product, bins):
    """BOLT-M8 in January 2026: 100 received at A-01, 30 moved to A-02, 12 issued there."""
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="100", occurred_at="2026-01-05T08:00:00Z")
    post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="30",
         occurred_at="2026-01-10T08:00:00Z")
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="12", occurred_at="2026-01-20T08:00:00Z")
    return product


JANUARY = {"from": "2026-01-01", "to": "2026-02-01"}
