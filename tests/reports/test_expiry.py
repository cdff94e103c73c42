"""The expiry report: lots with stock expiring within N days of today in the books' zone (those
expired included and flagged), a line per lot and location, first-expiring first, valued at price."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Tracking
from tests.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.reports.lot_ledger import milk, post, receive  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

EXPIRY = "/api/v1/reports/expiry/"
TODAY = timezone.localdate()


def day(offset: int):
    return TODAY + timedelta(days=offset)


@pytest.fixture
def shelf(post, milk, bins):
    """Milk at MAIN: OLD expired yesterday, SOON in 10 days at two bins, LATER in 45 days, one lot
    without expiry, one expiring in 5 days but issued to nothing."""
    receive(post, milk, bins[0], 6, "OLD", day(-1))
    receive(post, milk, bins[0], 4, "SOON", day(10))
    receive(post, milk, bins[1], "2.5", "SOON")
    receive(post, milk, bins[0], 5, "LATER", day(45))
    receive(post, milk, bins[0], 2, "NEVER")
    receive(post, milk, bins[2], 3, "GONE", day(5))
    post(kind="issue", product=milk.pk, location=bins[2].pk, quantity="3", lot="GONE")
    return milk


def lines(response) -> list[tuple]:
    assert response.status_code == 200, response.json()
    return [(row["lot_code"], row["location_label"], row["days_left"], row["quantity"]) for row in response.json()["rows"]]


class TestWhatIsInIt:
    def test_expiring_within_30_days_by_default_expired_included_first_expiring_first(self, auditor_client, shelf):
        assert lines(auditor_client.get(EXPIRY)) == [
            ("OLD", "MAIN/A-01", -1, "6.000"), ("SOON", "MAIN/A-01", 10, "4.000"), ("SOON", "MAIN/A-02", 10, "2.500"),
        ]

    def test_a_line_says_everything_of_its_lot_and_location(self, auditor_client, shelf, bins):
        report = auditor_client.get(EXPIRY).json()
        old = report["rows"][0]
        assert old == {
            "product": shelf.pk, "sku": "MILK-1L", "name": "Milk 1 l", "unit": "ea", "lot": shelf.lots.get(code="OLD").pk,
            "lot_code": "OLD", "expires_on": day(-1).isoformat(), "days_left": -1, "expired": True,
            "location": bins[0].pk, "location_label": "MAIN/A-01", "warehouse": bins[0].warehouse_id,
            "quantity": "6.000", "unit_price": "1.2500", "value": "7.5000",
        }
        assert [row["expired"] for row in report["rows"]] == [True, False, False]
        assert (report["today"], report["within_days"], report["through"]) == (TODAY.isoformat(), 30, day(30).isoformat())

    def test_totals_and_the_expired_total(self, auditor_client, shelf):
        report = auditor_client.get(EXPIRY).json()
        assert report["total"] == {"rows": 3, "lots": 2, "quantity": "12.500", "value": "15.6250"}
        assert report["expired"] == {"rows": 1, "lots": 1, "quantity": "6.000", "value": "7.5000"}

    def test_within_days_reaches_further(self, auditor_client, shelf):
        assert [code for code, *_ in lines(auditor_client.get(EXPIRY, {"within_days": 45}))] == ["OLD", "SOON", "SOON", "LATER"]
        assert [code for code, *_ in lines(auditor_client.get(EXPIRY, {"within_days": 44}))] == ["OLD", "SOON", "SOON"]

    def test_within_zero_days_is_what_has_expired_and_what_expires_today(self, auditor_client, post, shelf, bins):
        receive(post, shelf, bins[1], 1, "TODAY", TODAY)
        assert lines(auditor_client.get(EXPIRY, {"within_days": 0})) == [("OLD", "MAIN/A-01", -1, "6.000"), ("TODAY", "MAIN/A-02", 0, "1.000")]

    def test_a_lot_without_expiry_or_without_stock_is_never_in_it(self, auditor_client, shelf):
        codes = {code for code, *_ in lines(auditor_client.get(EXPIRY, {"within_days": 3650}))}
        assert codes == {"OLD", "SOON", "LATER"}

    def test_value_is_at_todays_price_each_line_rounded_half_up(self, auditor_client, post, bins):
        cheese = ProductFactory(sku="CHEESE", tracking=Tracking.LOT, unit_price="0.3333")
        receive(post, cheese, bins[0], "0.5", "C-1", day(3))
        receive(post, cheese, bins[1], "0.5", "C-1")
        report = auditor_client.get(EXPIRY).json()
        assert [row["value"] for row in report["rows"]] == ["0.1667", "0.1667"]  # 0.16665 each
        assert report["total"]["value"] == "0.3334"
        cheese.unit_price = Decimal("2")
        cheese.save()
        assert auditor_client.get(EXPIRY).json()["total"]["value"] == "2.0000"

    def test_today_is_the_books_day(self, auditor_client, post, milk, bins, settings):
        # In a zone whose date is not UTC's, a lot that expires on UTC's today is judged by that zone's.
        utc = timezone.now().astimezone(timezone.get_fixed_timezone(0))
        settings.TIME_ZONE = "Pacific/Kiritimati" if utc.hour >= 10 else "Pacific/Pago_Pago"
        there = timezone.localdate()
        receive(post, milk, bins[0], 1, "L-1", utc.date())
        row = auditor_client.get(EXPIRY).json()["rows"][0]
        assert row["days_left"] == (utc.date() - there).days != 0
        assert row["expired"] is (there > utc.date())


class TestScope:
    @pytest.fixture
    def elsewhere(self, post, shelf):
        """Milk and cream at another warehouse."""
        far = LocationFactory(warehouse=WarehouseFactory(code="FAR"), code="F-01")
        cream = ProductFactory(sku="CREAM", tracking=Tracking.LOT)
        receive(post, shelf, far, 1, "OLD")
        receive(post, cream, far, 2, "K-1", day(2))
        return far, cream

    def test_by_warehouse_location_and_product(self, auditor_client, elsewhere, shelf, bins):
        far, cream = elsewhere
        assert lines(auditor_client.get(EXPIRY, {"warehouse": far.warehouse_id})) == [
            ("OLD", "FAR/F-01", -1, "1.000"), ("K-1", "FAR/F-01", 2, "2.000"),
        ]
        assert lines(auditor_client.get(EXPIRY, {"location": bins[1].pk})) == [("SOON", "MAIN/A-02", 10, "2.500")]
        assert [code for code, *_ in lines(auditor_client.get(EXPIRY, {"product": cream.pk}))] == ["K-1"]
        both = {"product": shelf.pk, "warehouse": far.warehouse_id}
        assert lines(auditor_client.get(EXPIRY, both)) == [("OLD", "FAR/F-01", -1, "1.000")]

    @pytest.mark.parametrize("name", ["product", "location", "warehouse"])
    def test_a_record_that_is_not_there_is_a_404_naming_it(self, auditor_client, name):
        response = auditor_client.get(EXPIRY, {name: 999999})
        assert response.status_code == 404 and set(response.json()["errors"]) == {name}

    @pytest.mark.parametrize("query", [
        {"within_days": "-1"}, {"within_days": "3651"}, {"within_days": "x"}, {"product": "0"}, {"within_days": ""},
        {"warehouse": ""},
    ])
    def test_a_parameter_it_cannot_use_is_a_400_naming_it(self, auditor_client, query):
        response = auditor_client.get(EXPIRY, query)
        assert response.status_code == 400 and set(response.json()["errors"]) == set(query)

    def test_a_parameter_given_twice_is_refused(self, auditor_client):
        response = auditor_client.get(f"{EXPIRY}?within_days=3&within_days=4")
        assert response.status_code == 400 and set(response.json()["errors"]) == {"within_days"}


class TestWhoAndHow:
    @pytest.mark.parametrize("role", ["auditor", "finance", "manager"])
    def test_readers_of_reports_read_it(self, request, role):
        assert request.getfixturevalue(f"{role}_client").get(EXPIRY).status_code == 200

    def test_a_clerk_does_not(self, clerk_client):
        assert clerk_client.get(EXPIRY).status_code == 403

    def test_csv_lays_out_the_lines_then_the_totals(self, auditor_client, shelf):
        response = auditor_client.get(EXPIRY, {"format": "csv"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"] == f'attachment; filename="expiry-report_{TODAY:%Y%m%d}_30d.csv"'
        table = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [(line["line"], line["lot_code"], line["location_label"], line["value"]) for line in table] == [
            ("location", "OLD", "MAIN/A-01", "7.5000"), ("location", "SOON", "MAIN/A-01", "5.0000"),
            ("location", "SOON", "MAIN/A-02", "3.1250"), ("expired total", "", "", "7.5000"), ("total", "", "", "15.6250"),
        ]
        assert (table[0]["expired"], table[0]["days_left"], table[-1]["rows"], table[-1]["lots"]) == ("true", "-1", "3", "2")

    def test_csv_by_accept_header_and_errors_stay_json(self, auditor_client):
        assert auditor_client.get(EXPIRY, HTTP_ACCEPT="text/csv")["Content-Type"].startswith("text/csv")
        refused = auditor_client.get(EXPIRY, {"within_days": "-1", "format": "csv"})
        assert refused.status_code == 400 and refused.json()["code"] == "validation_error"

    def test_it_names_the_position_its_stock_reflects(self, auditor_client, shelf):
        from ledger.selectors import head_position

        assert auditor_client.get(EXPIRY).json()["position"] == head_position()
