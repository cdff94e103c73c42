"""The movement list and a movement's page: SKUs and WAREHOUSE/CODE labels in the direction the stock
went, filters that pick one product or location among thousands, and no query per row."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags

from ledger.models import Movement
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/ledger/movement/"


def _page(admin_client, url: str) -> str:
    response = admin_client.get(url)
    assert response.status_code == 200, response
    return " ".join(strip_tags(response.content.decode().replace("<br>", " ")).split())


def _rows(admin_client, url: str = LIST) -> list[str]:
    """The list's rows as text, cell by cell."""
    response = admin_client.get(url)
    assert response.status_code == 200
    table = response.content.decode().split('<table id="result_list">')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [" ".join(strip_tags(row.replace("</td>", " ").replace("</th>", " ")).split()) for row in body.split("</tr>")[:-1]]


def _positions(admin_client, query: str = "") -> list[int]:
    response = admin_client.get(f"{LIST}{query}")
    assert response.status_code == 200
    return [movement.position for movement in response.context["cl"].result_list]


class TestTitles:
    def test_each_kind_reads_with_its_sku_and_labels(self, day):
        receipt, transfer, reversal, issue, count, _ = day
        assert str(receipt) == f"#{receipt.position} receipt BOLT-M8 MAIN/A-01 +10"
        assert str(transfer) == f"#{transfer.position} transfer BOLT-M8 MAIN/A-01 → MAIN/A-02 4"
        assert str(issue) == f"#{issue.position} issue BOLT-M8 MAIN/A-01 -1"
        assert str(count) == f"#{count.position} count-adjust BOLT-M8 MAIN/A-01 -1"

    def test_the_reversal_of_a_transfer_reads_back_the_other_way(self, day):
        transfer, reversal = day[1], day[2]
        # The reversal stores the original's legs negated: location is still A-01, the stock went back into it.
        assert (reversal.location_id, reversal.to_location_id, reversal.delta) == (
            transfer.location_id, transfer.to_location_id, -transfer.delta
        )
        assert str(reversal) == f"#{reversal.position} reversal of #{transfer.position} BOLT-M8 MAIN/A-02 → MAIN/A-01 4"


class TestTheList:
    def test_rows_show_skus_labels_and_the_direction_of_each_movement(self, admin_client, day):
        receipt, transfer, reversal, issue, count, other = day
        clerk = receipt.user.username
        rows = [row.split(" ", 3)[::3] for row in _rows(admin_client)]  # the number, and what follows the time
        assert rows == [
            [f"#{other.position}", f"receipt NUT-M8 → MAIN/B-01 +3 3 - {clerk}"],
            [f"#{count.position}", f"count-adjust BOLT-M8 MAIN/A-01 → -1 8 - {clerk}"],
            [f"#{issue.position}", f"issue BOLT-M8 MAIN/A-01 → -1 9 SO-7 {clerk}"],
            # The reversal runs back from; on hand after, in that order: A-02 0, A-01 10.
            [f"#{reversal.position}", f"reversal of #{transfer.position} BOLT-M8 MAIN/A-02 → MAIN/A-01 4 0 / 10 - {clerk}"],
            [f"#{transfer.position}", f"transfer BOLT-M8 MAIN/A-01 → MAIN/A-02 4 6 / 4 - {clerk}"],
            [f"#{receipt.position}", f"receipt BOLT-M8 → MAIN/A-01 +10 10 PO-1 {clerk}"],
        ]

    def test_newest_first(self, admin_client, day):
        assert _positions(admin_client) == [m.position for m in reversed(day)]

    def test_the_page_costs_the_same_queries_however_many_rows(self, admin_client, day, post, bins):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(LIST).status_code == 200
            return len(captured)

        few = queries()
        for n in range(12):
            product = ProductFactory()
            where = LocationFactory(warehouse=bins[0].warehouse)
            post(kind="receipt", product=product.pk, location=where.pk, quantity="5")
            post(kind="transfer", product=product.pk, from_location=where.pk, to_location=bins[n % 3].pk, quantity="2")
        assert Movement.objects.count() == len(day) + 24
        assert queries() == few
        assert few <= 7, f"{few} queries for the movement list"

    def test_filters_by_kind_product_location_of_either_leg_and_warehouse(self, admin_client, day, product, bins):
        receipt, transfer, reversal, issue, count, other = day
        assert _positions(admin_client, "?kind=transfer") == [transfer.position]
        assert _positions(admin_client, f"?product={other.product_id}") == [other.position]
        # A-02 is only ever the second leg (to_location): the transfer and its reversal.
        assert _positions(admin_client, f"?location={bins[1].pk}") == [reversal.position, transfer.position]
        assert _positions(admin_client, f"?location={bins[2].pk}") == [other.position]
        elsewhere = LocationFactory(code="X-01")
        assert _positions(admin_client, f"?warehouse={elsewhere.warehouse_id}") == []
        assert len(_positions(admin_client, f"?warehouse={bins[0].warehouse_id}")) == len(day)
        year = receipt.occurred_at.year
        assert len(_positions(admin_client, f"?occurred_at__year={year}")) == len(day)

    def test_the_product_filter_is_an_autocomplete_naming_the_pick_not_a_list_of_all_products(
        self, admin_client, day, product
    ):
        ProductFactory.create_batch(30)
        response = admin_client.get(f"{LIST}?product={product.pk}")
        html = response.content.decode()
        assert 'data-model-name="movement"' in html and 'data-field-name="product"' in html
        assert f'<option value="{product.pk}" selected>BOLT-M8' in html
        assert html.count("<option") < 10
        found = admin_client.get(
            "/admin/autocomplete/", {"app_label": "ledger", "model_name": "movement", "field_name": "location", "term": "A-02"}
        )
        assert found.status_code == 200
        assert [r["text"] for r in found.json()["results"]] == ["MAIN/A-02"]

    def test_the_date_hierarchy_reads_the_first_and_last_time_not_every_distinct_date(self, admin_client, day, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="1", occurred_at="2024-06-01T09:00:00Z")
        this_year = day[0].occurred_at.year

        def hierarchy(query: str = "") -> list[str]:
            with CaptureQueriesContext(connection) as captured:
                response = admin_client.get(f"{LIST}{query}")
            assert response.status_code == 200
            assert not [q["sql"] for q in captured if "DISTINCT" in q["sql"].upper()]
            nav = response.content.decode().split('<nav class="toplinks">')[1].split("</nav>")[0]
            return strip_tags(nav).split()

        assert hierarchy() == [str(y) for y in range(2024, this_year + 1)]
        assert hierarchy("?occurred_at__year=2024") == ["&lsaquo;", "All", "dates", "June", "2024"]
        assert hierarchy("?occurred_at__year=2024&occurred_at__month=6") == ["&lsaquo;", "2024", "June", "1"]
        assert _positions(admin_client, "?occurred_at__year=2024&occurred_at__month=6&occurred_at__day=1") == [len(day) + 1]

    @pytest.mark.parametrize("query", ["?product=bolt", "?location=-1", "?warehouse=1e3", f"?product={2**64}"])
    def test_a_filter_value_that_is_no_id_is_admins_wrong_lookup_page(self, admin_client, day, query):
        response = admin_client.get(f"{LIST}{query}")
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")

    def test_fits_a_laptop_screen_with_the_columns_that_matter(self, admin_client, day):
        response = admin_client.get(LIST)
        headers = [strip_tags(h["text"]) for h in response.context["result_headers"]]
        assert headers == ["#", "occurred", "kind", "SKU", "movement", "qty", "on hand after", "reference", "user"]
        assert response.context["is_nav_sidebar_enabled"] is False


class TestAMovementsPage:
    def test_groups_the_rest_and_links_both_ways_between_a_transfer_and_its_reversal(self, admin_client, day):
        transfer, reversal = day[1], day[2]
        text = _page(admin_client, f"{LIST}{transfer.position}/change/")
        assert str(transfer) in text
        assert f"Reversed by: {reversal}" in text
        assert "MAIN/A-01: -4, on hand after 6 MAIN/A-02: +4, on hand after 4" in text
        for section in ("Stock At each location", "Correction", "Ledger record", transfer.hash, transfer.idempotency_key):
            assert section in text
        text = _page(admin_client, f"{LIST}{reversal.position}/change/")
        assert f"Reverses: {transfer}" in text
        assert "Reason: wrong bin" in text

    def test_a_count_shows_what_was_expected_and_counted_and_a_receipt_its_cost(self, admin_client, day):
        receipt, count = day[0], day[4]
        text = _page(admin_client, f"{LIST}{count.position}/change/")
        assert "Expected quantity: 9.000 Counted quantity: 8.000" in text
        assert "Unit cost" not in text
        assert "Unit cost: 1.2500" in _page(admin_client, f"{LIST}{receipt.position}/change/")

    def test_the_page_costs_a_few_queries(self, admin_client, day):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(f"{LIST}{day[2].position}/change/").status_code == 200
        assert len(captured) <= 8
