"""The stock report on random ledgers: every row's opening + flows = closing, opening and closing
equal to stock as of the bounds, every figure equal to a fold of the ledger in the test."""
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from ledger.parsing import parse_reversal
from ledger.selectors import head_position
from ledger.services import movement_post
from projections.selectors import stock_as_of
from reports.selectors import FLOWS, Scope, stock_report
from tests.factories import WarehouseFactory

from .ledgers import FLOW_NAMES, fold, random_ledger

pytestmark = pytest.mark.django_db
JUST_BEFORE = timedelta(microseconds=1)  # the ledger keeps microseconds: "before t" is "as of t - 1 us"


def _flows_sum(figures) -> Decimal:
    """opening + receipts - issues + transfers in - out + count gains - losses + reversals, spelled out."""
    f = figures
    return (f.opening + f.receipts - f.issues + f.transfers_in - f.transfers_out + f.count_gains - f.count_losses
            + f.reversals)


def _as_dict(figures) -> dict:
    return {name: getattr(figures, name) for name in ("opening", *FLOW_NAMES, "closing", "movements")}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_on_a_random_ledger_opening_plus_flows_is_closing_and_each_figure_is_the_ledgers(seed, clerk):
    rng = random.Random(seed)
    products, warehouses, locations, first = random_ledger(rng, clerk)
    for _ in range(6):
        start = first + timedelta(seconds=rng.randrange(60 * 86400))
        end = start + timedelta(seconds=rng.randrange(1, 30 * 86400))
        scope = rng.choice([
            Scope(), Scope(product=rng.choice(products).pk), Scope(warehouse=rng.choice(warehouses).pk),
            Scope(location=rng.choice(locations).pk), Scope(product=rng.choice(products).pk, warehouse=warehouses[0].pk),
        ])
        report = stock_report(start=start, end=end, scope=scope)
        in_scope = {l.pk: l.warehouse_id for l in locations}

        def keep(product, location, scope=scope):
            return ((scope.product in (None, product)) and (scope.location in (None, location))
                    and (scope.warehouse in (None, in_scope[location])))

        expected = fold(start=start, end=end, keep=keep)
        assert {(r.product, r.location): _as_dict(r.figures) for r in report.rows} == expected
        for row in report.rows:
            assert row.figures.reconciled and _flows_sum(row.figures) == row.figures.closing
            opening = stock_as_of(product=row.product, location=row.location, at=start - JUST_BEFORE).quantity
            closing = stock_as_of(product=row.product, location=row.location, at=end - JUST_BEFORE).quantity
            assert (row.figures.opening, row.figures.closing) == (opening, closing)
        for total in report.products:
            rows = [r.figures for r in report.rows if r.product == total.product]
            assert total.locations == len(rows)
            assert _as_dict(total.figures) == {k: sum(_as_dict(f)[k] for f in rows) for k in _as_dict(total.figures)}
            assert total.figures.reconciled and _flows_sum(total.figures) == total.figures.closing
        assert _flows_sum(report.total) == report.total.closing == sum((r.figures.closing for r in report.rows), Decimal(0))
        assert report.reconciled
        assert report.position == head_position()


def test_periods_placed_end_to_end_tile_time(clerk):
    """The closing of one period is the opening of the next, and their flows add up to the whole's."""
    _, _, _, first = random_ledger(random.Random(5), clerk, movements=80)
    middle, last = first + timedelta(days=20), first + timedelta(days=61)
    january, february = stock_report(start=first, end=middle).total, stock_report(start=middle, end=last).total
    whole = stock_report(start=first, end=last).total
    assert (whole.opening, january.closing, whole.closing) == (january.opening, february.opening, february.closing)
    for name in (*FLOW_NAMES, "movements"):
        assert getattr(whole, name) == getattr(january, name) + getattr(february, name), name


def test_stock_held_through_a_quiet_period_is_a_row_and_stock_gone_before_it_is_none(post, product, bins):
    earlier = "2026-01-05T10:00:00Z"
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="7", occurred_at=earlier)
    post(kind="receipt", product=product.pk, location=bins[1].pk, quantity="3", occurred_at=earlier)
    post(kind="issue", product=product.pk, location=bins[1].pk, quantity="3", occurred_at="2026-01-06T10:00:00Z")
    report = stock_report(start=_at("2026-02-01T00:00:00Z"), end=_at("2026-03-01T00:00:00Z"))
    [row] = report.rows
    assert (row.location, row.figures.opening, row.figures.closing, row.figures.movements) == (bins[0].pk, 7, 7, 0)


def test_from_is_inclusive_and_to_exclusive(post, product, bins):
    for day, quantity in (("2026-01-31T23:59:59.999999Z", "1"), ("2026-02-01T00:00:00Z", "10"), ("2026-03-01T00:00:00Z", "100")):
        post(kind="receipt", product=product.pk, location=bins[0].pk, quantity=quantity, occurred_at=day)
    figures = stock_report(start=_at("2026-02-01T00:00:00Z"), end=_at("2026-03-01T00:00:00Z")).total
    assert (figures.opening, figures.receipts, figures.closing, figures.movements) == (1, 10, 11, 1)


def test_each_kind_is_filed_under_its_flow(post, product, bins):
    at = "2026-02-10T00:00:00Z"
    receipt = post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="50", occurred_at=at)
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="5", occurred_at=at)
    transfer = post(kind="transfer", product=product.pk, from_location=bins[0].pk, to_location=bins[1].pk,
                    quantity="20", occurred_at=at)
    post(kind="count", product=product.pk, location=bins[1].pk, counted_quantity="22", occurred_at=at)
    post(kind="count", product=product.pk, location=bins[0].pk, counted_quantity="24", occurred_at=at)
    movement_post(user=receipt.user, movement=parse_reversal({"occurred_at": at}, movement_id=transfer.pk))
    report = stock_report(start=_at("2026-02-01T00:00:00Z"), end=_at("2026-03-01T00:00:00Z"))
    rows = {row.location: row.figures for row in report.rows}
    first, second = rows[bins[0].pk], rows[bins[1].pk]
    assert (first.receipts, first.issues, first.transfers_out, first.count_losses) == (50, 5, 20, 1)
    assert (second.transfers_in, second.count_gains) == (20, 2)
    assert (first.reversals, second.reversals) == (20, -20)  # the transfer reversed: back from the second
    assert (first.closing, second.closing) == (44, 2)
    assert len(FLOWS) == 7 and all(f.reconciled for f in rows.values())


def test_a_report_read_at_a_position_is_reproduced_after_backdated_movements(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", occurred_at="2026-01-10T00:00:00Z")
    period = {"start": _at("2026-01-01T00:00:00Z"), "end": _at("2026-02-01T00:00:00Z")}
    printed = stock_report(**period)
    post(kind="issue", product=product.pk, location=bins[0].pk, quantity="4", occurred_at="2026-01-20T00:00:00Z")
    assert stock_report(**period).total.closing == 6
    again = stock_report(**period, position=printed.position)
    assert (again.position, again.rows) == (printed.position, printed.rows)
    assert stock_report(**period, position=10**12).position == head_position()  # never past the head


def test_a_location_outside_the_warehouse_narrows_to_nothing(post, product, bins):
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="10", occurred_at="2026-01-10T00:00:00Z")
    other = WarehouseFactory()
    period = {"start": _at("2026-01-01T00:00:00Z"), "end": _at("2026-02-01T00:00:00Z")}
    assert len(stock_report(**period, scope=Scope(location=bins[0].pk, warehouse=bins[0].warehouse_id)).rows) == 1
    report = stock_report(**period, scope=Scope(location=bins[0].pk, warehouse=other.pk))
    assert (report.rows, report.products, report.total.closing, report.reconciled) == ([], [], 0, True)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
