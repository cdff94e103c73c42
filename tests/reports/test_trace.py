"""A lot's trace: exactly its movements from its receipt in ledger order, and where its stock is
now (the listed movements' legs summed, which the lot projection agrees with)."""
import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Lot
from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.services import movement_post
from projections.models import LotStock
from projections.services import projections_catch_up
from tests.factories import ProductFactory
from tests.reports.lot_ledger import milk, post, receive  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def trace_url(lot: Lot) -> str:
    return f"/api/v1/lots/{lot.pk}/trace/"


@pytest.fixture
def recalled(post, milk, bins):
    """L-1 received at A-01, part moved to A-02 and issued there; L-2 (expiring later) received
    too; then an issue naming no lot split across both (FEFO), which is reversed; and other
    products' and lots' movements around them."""
    other = ProductFactory()
    post(kind="receipt", product=other.pk, location=bins[0].pk, quantity="50")
    receive(post, milk, bins[0], 10, "L-1", TODAY + timedelta(days=20), reference="PO-1")
    receive(post, milk, bins[0], 8, "L-2", TODAY + timedelta(days=40))
    receive(post, milk, bins[2], 1, "L-3", TODAY + timedelta(days=5))
    post(kind="transfer", product=milk.pk, from_location=bins[0].pk, to_location=bins[1].pk, quantity="4", lot="L-1")
    post(kind="issue", product=milk.pk, location=bins[1].pk, quantity="3", lot="L-1", reference="SO-7")
    split = post(kind="issue", product=milk.pk, location=bins[0].pk, quantity="9", reference="SO-8")
    return Lot.objects.get(product=milk, code="L-1"), Lot.objects.get(product=milk, code="L-2"), split


def reverse(user, movement):
    posted = movement_post(user=user, movement=parse_reversal({"reason": "returned"}, movement_id=movement.pk))
    projections_catch_up()
    return posted


def where(trace: dict) -> dict[str, str]:
    return {here["location_label"]: here["quantity"] for here in trace["stock"]}


class TestTrace:
    def test_every_movement_of_the_lot_and_no_other_in_ledger_order(self, auditor_client, recalled):
        lot, _, _ = recalled
        trace = auditor_client.get(trace_url(lot)).json()
        expected = list(Movement.objects.filter(lot=lot).order_by("position").values_list("position", flat=True))
        assert [m["position"] for m in trace["movements"]] == expected
        assert [(m["kind"], m["location_label"], m["to_location_label"], m["delta"], m["reference"]) for m in trace["movements"]] == [
            ("receipt", "MAIN/A-01", None, "10.000", "PO-1"),
            ("transfer", "MAIN/A-01", "MAIN/A-02", "-4.000", ""),
            ("issue", "MAIN/A-02", None, "-3.000", "SO-7"),
            ("issue", "MAIN/A-01", None, "-6.000", "SO-8"),  # FEFO took L-1's last 6 first
        ]

    def test_where_it_is_now_agrees_with_the_lot_projection(self, auditor_client, recalled):
        lot, second, _ = recalled
        for traced in (lot, second):
            trace = auditor_client.get(trace_url(traced)).json()
            projected = {
                str(row.location): f"{row.quantity:.3f}" for row in LotStock.objects.filter(lot=traced, quantity__gt=0)
            }
            assert where(trace) == projected
        assert where(auditor_client.get(trace_url(lot)).json()) == {"MAIN/A-02": "1.000"}
        trace = auditor_client.get(trace_url(second)).json()
        assert (where(trace), trace["on_hand"]) == ({"MAIN/A-01": "5.000"}, "5.000")

    def test_a_split_names_its_posting_in_each_lots_trace(self, auditor_client, recalled):
        lot, second, split = recalled
        first = auditor_client.get(trace_url(lot)).json()["movements"][-1]
        other = auditor_client.get(trace_url(second)).json()["movements"][-1]
        assert (first["reference"], other["reference"]) == ("SO-8", "SO-8")
        assert first["position"] == split.pk and other["allocation"] == split.pk
        assert other["delta"] == "-3.000"

    def test_a_reversal_is_in_the_trace_and_gives_the_stock_back(self, auditor_client, clerk, recalled):
        lot, second, split = recalled
        reverse(clerk, split)
        trace = auditor_client.get(trace_url(lot)).json()
        last = trace["movements"][-1]
        assert (last["kind"], last["reverses"], last["delta"], last["reason"]) == ("reversal", split.pk, "6.000", "returned")
        assert where(trace) == {"MAIN/A-01": "6.000", "MAIN/A-02": "1.000"}
        assert where(auditor_client.get(trace_url(second)).json()) == {"MAIN/A-01": "8.000"}

    def test_the_lot_itself_heads_the_trace(self, auditor_client, recalled):
        lot, _, _ = recalled
        trace = auditor_client.get(trace_url(lot)).json()
        assert {k: trace[k] for k in ("lot", "lot_code", "sku", "expires_on", "manufactured_on")} == {
            "lot": lot.pk, "lot_code": "L-1", "sku": "MILK-1L",
            "expires_on": (TODAY + timedelta(days=20)).isoformat(), "manufactured_on": None,
        }

    def test_a_position_reads_the_trace_as_it_was(self, auditor_client, clerk, recalled):
        lot, _, split = recalled
        before = auditor_client.get(trace_url(lot)).json()
        reverse(clerk, split)
        again = auditor_client.get(trace_url(lot), {"position": before["position"]}).json()
        assert again == before
        assert auditor_client.get(trace_url(lot), {"position": 0}).json()["movements"] == []

    def test_a_lot_made_beforehand_and_never_moved_has_an_empty_trace(self, auditor_client, milk):
        lot = Lot.objects.create(product=milk, code="NEW")
        trace = auditor_client.get(trace_url(lot)).json()
        assert (trace["movements"], trace["stock"], trace["on_hand"]) == ([], [], "0.000")

    def test_a_lot_that_is_not_there_is_a_404(self, auditor_client):
        response = auditor_client.get("/api/v1/lots/999999/trace/")
        assert response.status_code == 404 and response.json()["errors"] == {"lot": ["No lot with id 999999."]}

    @pytest.mark.parametrize("position", ["-1", "", "x"])
    def test_a_position_it_cannot_use_is_a_400(self, auditor_client, milk, position):
        lot = Lot.objects.create(product=milk, code="NEW")
        response = auditor_client.get(trace_url(lot), {"position": position})
        assert response.status_code == 400 and set(response.json()["errors"]) == {"position"}


class TestWhoAndHow:
    @pytest.mark.parametrize("role", ["auditor", "finance", "manager"])
    def test_readers_of_reports_read_it(self, request, role, milk):
        lot = Lot.objects.create(product=milk, code="NEW")
        assert request.getfixturevalue(f"{role}_client").get(trace_url(lot)).status_code == 200

    def test_a_clerk_does_not(self, clerk_client, milk):
        lot = Lot.objects.create(product=milk, code="NEW")
        assert clerk_client.get(trace_url(lot)).status_code == 403

    def test_csv_lists_the_movements_then_the_stock(self, auditor_client, recalled):
        lot, _, _ = recalled
        response = auditor_client.get(trace_url(lot), {"format": "csv"})
        assert response["Content-Disposition"] == f'attachment; filename="lot-{lot.pk}-trace.csv"'
        table = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [(line["line"], line["kind"], line["location_label"], line["quantity"]) for line in table] == [
            ("movement", "receipt", "MAIN/A-01", "10.000"),
            ("movement", "transfer", "MAIN/A-01", "4.000"),
            ("movement", "issue", "MAIN/A-02", "3.000"),
            ("movement", "issue", "MAIN/A-01", "6.000"),
            ("on hand", "", "MAIN/A-02", "1.000"),
            ("on hand total", "", "", "1.000"),
        ]
