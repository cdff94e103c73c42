"""Replay for auditors: stock as of a business time or a ledger position, by hand computation."""
from datetime import datetime, timezone

import pytest

from projections.selectors import stock_as_of

pytestmark = pytest.mark.django_db


def t(day: int, hour: int = 12) -> str:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc).isoformat()


@pytest.fixture
def history(post, product, bins):
    """Positions 1-5; position 4 is backdated to before position 2's business time."""
    a, b = bins[0].pk, bins[1].pk
    post(kind="receipt", product=product.pk, location=a, quantity="10", occurred_at=t(1))       # 1
    post(kind="transfer", product=product.pk, from_location=a, to_location=b, quantity="4", occurred_at=t(3))  # 2
    post(kind="issue", product=product.pk, location=b, quantity="1", occurred_at=t(5))          # 3
    post(kind="receipt", product=product.pk, location=a, quantity="2", occurred_at=t(2))        # 4: late paperwork
    post(kind="count", product=product.pk, location=a, counted_quantity="7", occurred_at=t(6))  # 5: expected 8
    return a, b


@pytest.mark.parametrize(
    "position,expected_a,expected_b",
    [(0, 0, 0), (1, 10, 0), (2, 6, 4), (3, 6, 3), (4, 8, 3), (5, 7, 3)],
)
def test_stock_as_of_a_position(history, product, position, expected_a, expected_b):
    a, b = history
    stock = stock_as_of(product=product.pk, position=position)
    assert {k: v for k, v in stock.balances.items() if v} == {k: v for k, v in {a: expected_a, b: expected_b}.items() if v}
    assert stock_as_of(product=product.pk, location=a, position=position).quantity == expected_a


@pytest.mark.parametrize(
    "moment,expected_a,expected_b",
    [
        (t(1, 0), 0, 0),
        (t(1), 10, 0),       # at exactly the receipt's time: included
        (t(2), 12, 0),       # the backdated receipt counts from its business time
        (t(4), 8, 4),
        (t(5), 8, 3),
        (t(7), 7, 3),
    ],
)
def test_stock_as_of_a_business_time(history, product, moment, expected_a, expected_b):
    a, b = history
    at = datetime.fromisoformat(moment)
    assert stock_as_of(product=product.pk, location=a, at=at).quantity == expected_a
    assert stock_as_of(product=product.pk, location=b, at=at).quantity == expected_b
    assert stock_as_of(product=product.pk, at=at).quantity == expected_a + expected_b


def test_the_movements_behind_it(history, product):
    a, _ = history
    stock = stock_as_of(product=product.pk, location=a, at=datetime.fromisoformat(t(4)))
    assert list(stock.movements().values_list("position", flat=True)) == [1, 2, 4]


class TestApi:
    URL = "/api/v1/stock/as-of/"

    def test_as_of_by_time_with_movements(self, auditor_client, history, product):
        a, _ = history
        body = auditor_client.get(self.URL, {"product": product.pk, "location": a, "at": t(4), "movements": "true"}).json()
        assert body["quantity"] == "8.000"
        assert body["movements_count"] == 3
        assert [m["position"] for m in body["movements"]] == [1, 2, 4]
        listed = auditor_client.get(body["movements_url"]).json()["results"]
        assert [m["position"] for m in listed] == [1, 2, 4]

    def test_as_of_by_position(self, finance_client, history, product):
        body = finance_client.get(self.URL, {"product": product.pk, "position": 2}).json()
        assert body["quantity"] == "10.000"
        assert "movements" not in body

    @pytest.mark.parametrize(
        "params",
        [{}, {"product": "x", "position": 1}, {"product": 1, "position": 1, "recorded_at": t(1)},
         {"product": 1, "at": "noon"}, {"product": 1, "position": -1}, {"product": 1, "position": 1, "limit": 5000}],
    )
    def test_bad_queries_are_400(self, auditor_client, db, params):
        response = auditor_client.get(self.URL, params)
        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"

    def test_without_at_or_position_it_is_as_of_the_head(self, auditor_client, history, product):
        a, b = history
        body = auditor_client.get(self.URL, {"product": product.pk}).json()
        assert (body["quantity"], body["position"], body["at"]) == ("10.000", 5, None)
        assert body["balances"] == [{"location": a, "quantity": "7.000"}, {"location": b, "quantity": "3.000"}]

    def test_a_product_that_does_not_exist_is_404(self, auditor_client, db):
        response = auditor_client.get(self.URL, {"product": 1, "position": 1})
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert list(response.json()["errors"]) == ["product"]
