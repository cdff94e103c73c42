"""Bitemporal replay: what the books said at a record time (a ledger position, or a time) about a
business time, through the API, held against a fold of the ledger written out here."""
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils import timezone as django_timezone

from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.services import movement_post
from projections.selectors import stock_as_of
from tests.factories import ProductFactory
from tests.replay import legs_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/as-of/"
TICK = timedelta(microseconds=1)  # the ledger's resolution: R - TICK is "just before R"


def t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc)


def fold(movements: list[Movement], *, product: int, recorded, at: datetime | None):
    """What the books said: (position the record bound stands for, {location: quantity} without
    zeros, positions behind it). ``recorded`` is a position (an int) or a time (a datetime)."""
    if isinstance(recorded, datetime):
        known = [m for m in movements if m.recorded_at <= recorded]
    else:
        known = [m for m in movements if m.position <= recorded]
    position = max((m.position for m in known), default=0)
    behind = [m for m in known if m.product_id == product and (at is None or m.occurred_at <= at)]
    balances = defaultdict(Decimal)
    for movement in behind:
        for location, change in legs_of(movement):
            balances[location] += change
    return position, {k: v for k, v in balances.items() if v}, [m.position for m in behind]


def non_zero(balances: list[dict]) -> dict[int, Decimal]:
    return {row["location"]: Decimal(row["quantity"]) for row in balances if Decimal(row["quantity"])}


def query(recorded, at: datetime | None) -> dict:
    params = {}
    if isinstance(recorded, datetime):
        params["recorded_at"] = recorded.isoformat()
    elif recorded is not None:
        params["position"] = recorded
    if at is not None:
        params["at"] = at.isoformat()
    return params


def reverse(clerk, position: int, occurred_at: datetime) -> Movement:
    return movement_post(
        user=clerk, movement=parse_reversal({"occurred_at": occurred_at.isoformat()}, movement_id=position)
    ).movement


@pytest.fixture
def ledger(post, clerk, product, bins):
    """Two products over three locations: receipts, issues, transfers, a count, reversals, a batch
    (one record time for three movements) and movements backdated before ones recorded earlier."""
    other = ProductFactory(sku="NUT-M8")
    p, q = product.pk, other.pk
    a, b, c = (location.pk for location in bins)
    post(kind="receipt", product=p, location=a, quantity="10", occurred_at=t(5).isoformat())       # 1
    post(kind="receipt", product=q, location=b, quantity="7", occurred_at=t(5).isoformat())        # 2
    post(kind="transfer", product=p, from_location=a, to_location=b, quantity="4", occurred_at=t(8).isoformat())  # 3
    post([                                                                                          # 4-6: one batch
        {"kind": "issue", "product": p, "location": b, "quantity": "1", "occurred_at": t(9).isoformat()},
        {"kind": "receipt", "product": p, "location": c, "quantity": "3", "occurred_at": t(9).isoformat()},
        {"kind": "receipt", "product": q, "location": a, "quantity": "2", "occurred_at": t(3).isoformat()},  # backdated
    ])
    post(kind="receipt", product=p, location=a, quantity="5", occurred_at=t(2).isoformat())        # 7: backdated
    post(kind="count", product=p, location=a, counted_quantity="9", occurred_at=t(10).isoformat())  # 8: 11 expected
    reverse(clerk, 4, t(11))                                                                        # 9
    post(kind="transfer", product=q, from_location=b, to_location=c, quantity="5", occurred_at=t(6).isoformat())  # 10
    post(kind="issue", product=p, location=a, quantity="3", occurred_at=t(4).isoformat())          # 11: backdated
    reverse(clerk, 11, t(12))                                                                       # 12
    movements = list(Movement.objects.order_by("position"))
    assert [m.position for m in movements] == list(range(1, 13))
    assert len({m.recorded_at for m in movements[3:6]}) == 1  # the batch's
    return movements, [p, q], [a, b, c]


def record_bounds(movements: list[Movement]) -> list:
    """The record axis, one bound from each stretch over which the answer cannot change: every record
    time and one before the first, and positions where no time can stop (inside the batch), at 0 and
    past the head. A time just before a recorded one answers as the one before it does, so exact
    times catch an inclusive bound read as exclusive and the other way round."""
    times = sorted({m.recorded_at for m in movements})
    return [times[0] - TICK, *times, times[-1] + timedelta(days=1), 0, 4, 5, len(movements) + 1]


def business_bounds(movements: list[Movement]) -> list:
    """Likewise on the business axis: each business time, one before the first, and none."""
    times = sorted({m.occurred_at for m in movements})
    return [None, times[0] - TICK, *times]


def test_every_record_time_and_business_time_pair_equals_a_fold(auditor_client, ledger):
    """Through the API for each product at every location (with the movements behind it), and
    through the selector at each location on its own."""
    movements, products, locations = ledger
    mismatches = []
    for recorded in record_bounds(movements):
        for at in business_bounds(movements):
            for product in products:
                position, balances, behind = fold(movements, product=product, recorded=recorded, at=at)
                body = auditor_client.get(URL, {"product": product, **query(recorded, at), "movements": "true"}).json()
                got = (body["position"], non_zero(body["balances"]), [m["position"] for m in body["movements"]],
                       body["movements_count"])
                if got != (position, balances, behind, len(behind)):
                    mismatches.append((recorded, at, product, got, (position, balances, behind)))
                bound = {"recorded_at": recorded} if isinstance(recorded, datetime) else {"position": recorded}
                for location in locations:
                    one = stock_as_of(product=product, location=location, at=at, **bound)
                    if (one.position, one.quantity) != (position, balances.get(location, 0)):
                        mismatches.append((recorded, at, product, location, one, balances.get(location, 0)))
    assert not mismatches, mismatches[:5]


def test_the_movements_link_lists_the_fold_s_movements(auditor_client, ledger):
    movements, products, _ = ledger
    batch_time = movements[3].recorded_at  # positions 4-6 share it
    for recorded, at in [(batch_time, t(9)), (batch_time - TICK, None), (7, t(4)), (0, None), (None, t(3))]:
        _, _, behind = fold(movements, product=products[0], recorded=len(movements) if recorded is None else recorded, at=at)
        body = auditor_client.get(URL, {"product": products[0], **query(recorded, at)}).json()
        listed = auditor_client.get(body["movements_url"]).json()["results"]
        assert [m["position"] for m in listed] == behind, (recorded, at)


def test_a_backdated_movement_is_unknown_before_it_was_recorded_and_known_after(auditor_client, post, product, bins):
    a = bins[0].pk
    post(kind="receipt", product=product.pk, location=a, quantity="10", occurred_at=t(5).isoformat())
    late = post(kind="receipt", product=product.pk, location=a, quantity="3", occurred_at=t(2).isoformat())
    asked = {"product": product.pk, "location": a, "at": t(3).isoformat(), "movements": "true"}

    before = auditor_client.get(URL, {**asked, "recorded_at": (late.recorded_at - TICK).isoformat()}).json()
    assert (before["quantity"], before["position"], before["movements"]) == ("0.000", 1, [])
    after = auditor_client.get(URL, {**asked, "recorded_at": late.recorded_at.isoformat()}).json()
    assert (after["quantity"], after["position"]) == ("3.000", 2)
    assert [m["position"] for m in after["movements"]] == [2]
    by_position = [auditor_client.get(URL, {**asked, "position": p}).json()["quantity"] for p in (1, 2)]
    assert by_position == ["0.000", "3.000"]


@pytest.fixture
def clock(monkeypatch):
    """Set the time the ledger records by: ``clock("2026-01-10T09:00:00+00:00")``."""

    def set_to(moment: str) -> str:
        now = datetime.fromisoformat(moment)
        monkeypatch.setattr(django_timezone, "now", lambda: now)
        return moment

    return set_to


def test_the_year_end_figure_printed_in_january_is_reproduced_in_june(auditor_client, post, clock, product, bins):
    a = bins[0].pk
    year_end = "2025-12-31T23:59:59.999999+00:00"  # at or before it: every movement dated in 2025
    clock("2025-11-03T10:00:00+00:00")
    post(kind="receipt", product=product.pk, location=a, quantity="100")
    clock("2025-12-15T10:00:00+00:00")
    post(kind="issue", product=product.pk, location=a, quantity="30")
    printed_at = clock("2026-01-10T09:00:00+00:00")
    january = auditor_client.get(URL, {"product": product.pk, "at": year_end, "movements": "true"}).json()
    assert (january["quantity"], january["position"]) == ("70.000", 2)

    clock("2026-01-20T14:00:00+00:00")  # late paperwork: an issue of 28 December
    post(kind="issue", product=product.pk, location=a, quantity="5", occurred_at="2025-12-28T16:00:00+00:00")
    clock("2026-02-02T08:00:00+00:00")
    post(kind="receipt", product=product.pk, location=a, quantity="40")

    clock("2026-06-15T11:00:00+00:00")
    now = auditor_client.get(URL, {"product": product.pk, "at": year_end}).json()
    assert (now["quantity"], now["position"]) == ("65.000", 4)  # the books today know of the late issue
    for record_bound in ({"recorded_at": printed_at}, {"position": january["position"]}):
        june = auditor_client.get(URL, {"product": product.pk, "at": year_end, "movements": "true", **record_bound}).json()
        same = ("quantity", "balances", "position", "movements_count", "movements")
        assert {k: june[k] for k in same} == {k: january[k] for k in same}, record_bound
    again = auditor_client.get(URL, {"product": product.pk, "at": year_end, "recorded_at": printed_at}).json()
    listed = auditor_client.get(again["movements_url"]).json()["results"]
    assert [m["position"] for m in listed] == [1, 2]


class TestRecordBounds:
    def test_a_position_past_the_head_is_answered_as_of_the_head(self, auditor_client, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
        body = auditor_client.get(URL, {"product": product.pk, "position": 99}).json()
        assert (body["quantity"], body["position"]) == ("2.000", 1)
        assert "position_until=1" in body["movements_url"]

    def test_a_record_time_after_the_last_recording_is_the_head(self, auditor_client, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
        body = auditor_client.get(URL, {"product": product.pk, "recorded_at": "2999-01-01T00:00:00Z"}).json()
        assert (body["quantity"], body["position"], body["recorded_at"]) == ("2.000", 1, "2999-01-01T00:00:00Z")

    def test_a_record_time_before_the_first_recording_is_position_0(self, auditor_client, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
        body = auditor_client.get(URL, {"product": product.pk, "recorded_at": "2000-01-01T00:00:00Z"}).json()
        assert (body["quantity"], body["position"], body["balances"]) == ("0.000", 0, [])

    def test_an_empty_ledger_is_position_0(self, auditor_client, product):
        body = auditor_client.get(URL, {"product": product.pk, "recorded_at": "2026-01-01T00:00:00Z"}).json()
        assert (body["quantity"], body["position"]) == ("0.000", 0)

    def test_a_record_time_in_another_zone_is_the_same_instant(self, auditor_client, post, product, bins):
        moved = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2")
        elsewhere = moved.recorded_at.astimezone(timezone(timedelta(hours=-5, minutes=-30))).isoformat()
        body = auditor_client.get(URL, {"product": product.pk, "recorded_at": elsewhere}).json()
        assert (body["quantity"], body["position"]) == ("2.000", 1)
        assert body["recorded_at"] == moved.recorded_at.isoformat().replace("+00:00", "Z")

    def test_without_a_record_bound_the_answer_names_the_head(self, auditor_client, post, product, bins):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="2", occurred_at=t(2).isoformat())
        body = auditor_client.get(URL, {"product": product.pk, "at": t(3).isoformat()}).json()
        assert (body["quantity"], body["position"], body["recorded_at"]) == ("2.000", 1, None)
        assert "position_until=1" in body["movements_url"] and "occurred_until=" in body["movements_url"]


class TestRefused:
    def refused(self, response, *names) -> dict:
        assert response.status_code == 400, response.content
        body = response.json()
        assert body["code"] == "validation_error"
        assert set(body["errors"]) == set(names), body
        return body

    @pytest.mark.parametrize("name", ["recorded_at", "at"])
    def test_a_time_without_a_zone(self, auditor_client, product, name):
        body = self.refused(auditor_client.get(URL, {"product": product.pk, name: "2026-01-01T00:00:00"}), name)
        assert body["errors"][name] == ["Include a time zone (Z or +hh:mm)."]

    @pytest.mark.parametrize("value", [
        "yesterday", "2026-01-01", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00Z\n",
        "2026-01-01T00:00:00Z\x00", " 2026-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "1700000000",
    ])
    @pytest.mark.parametrize("name", ["recorded_at", "at"])
    def test_junk_for_a_time(self, auditor_client, product, name, value):
        self.refused(auditor_client.get(URL, {"product": product.pk, name: value}), name)

    def test_a_product_that_does_not_exist_is_still_404(self, auditor_client, db):
        response = auditor_client.get(URL, {"product": 424242, "recorded_at": "2026-01-01T00:00:00Z"})
        assert (response.status_code, response.json()["code"], list(response.json()["errors"])) == (404, "not_found", ["product"])
