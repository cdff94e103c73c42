"""FIFO and moving average on a sequence worked out by hand: receipts at different costs, partial
issues, a transfer between warehouses and one within, a count's gain and loss, a reversed issue,
a receipt without a cost. Every figure below is written by hand, with its arithmetic."""
from decimal import Decimal as D

import pytest

from ledger.parsing import parse_reversal
from ledger.services import movement_post
from tests.factories import LocationFactory, ProductFactory, WarehouseFactory
from valuation.models import CostEntry, CostLayer
from valuation.selectors import cost_flows, valuation_on_hand
from valuation.services import valuation_catch_up, valuation_rebuild

pytestmark = pytest.mark.django_db


def _day(n: int) -> str:
    return f"2026-03-{n:02d}T10:00:00Z"


@pytest.fixture
def places(db):
    main, east = WarehouseFactory(code="MAIN"), WarehouseFactory(code="EAST")
    return {
        "A-01": LocationFactory(warehouse=main, code="A-01"),
        "A-02": LocationFactory(warehouse=main, code="A-02"),
        "E-01": LocationFactory(warehouse=east, code="E-01"),
        "MAIN": main, "EAST": east,
    }


def _sequence(post, clerk, product, places) -> dict[str, int]:
    a1, a2, e1 = (places[code].pk for code in ("A-01", "A-02", "E-01"))
    p = product.pk
    moves = {}
    moves["r1"] = post(kind="receipt", product=p, location=a1, quantity="10", unit_cost="2.00", occurred_at=_day(1))
    moves["r2"] = post(kind="receipt", product=p, location=a2, quantity="5", unit_cost="3.00", occurred_at=_day(2))
    moves["i3"] = post(kind="issue", product=p, location=a1, quantity="4", occurred_at=_day(3))
    moves["t4"] = post(kind="transfer", product=p, from_location=a1, to_location=e1, quantity="5", occurred_at=_day(4))
    moves["r5"] = post(kind="receipt", product=p, location=a2, quantity="10", unit_cost="4.00", occurred_at=_day(5))
    moves["i6"] = post(kind="issue", product=p, location=a2, quantity="7", occurred_at=_day(6))
    moves["c7"] = post(kind="count", product=p, location=e1, counted_quantity="6", occurred_at=_day(7))  # had 5: a gain of 1
    moves["c8"] = post(kind="count", product=p, location=a1, counted_quantity="0", occurred_at=_day(8))  # had 10-4-5 = 1: a loss of 1
    moves["v9"] = movement_post(
        user=clerk, movement=parse_reversal({"occurred_at": _day(9)}, movement_id=moves["i6"].pk)
    ).movement
    moves["i10"] = post(kind="issue", product=p, location=e1, quantity="3", occurred_at=_day(10))
    moves["t11"] = post(kind="transfer", product=p, from_location=a2, to_location=a1, quantity="2", occurred_at=_day(11))
    moves["r12"] = post(kind="receipt", product=p, location=a1, quantity="2", occurred_at=_day(12))  # no cost
    return {name: movement.pk for name, movement in moves.items()}


def _cogs(product, position) -> D:
    return sum((e.cogs for e in CostEntry.objects.filter(product=product, movement_id=position)), D(0))


def _by_warehouse(product) -> dict[str, tuple[D, D]]:
    return {row["warehouse_code"]: (row["quantity"], row["value"]) for row in valuation_on_hand(group_by="warehouse", product=product.pk)}


def test_fifo_by_hand(post, clerk, places):
    product = ProductFactory(sku="FIFO-1", valuation_method="fifo")
    m = _sequence(post, clerk, product, places)
    valuation_catch_up()
    # r1: MAIN layer L1 10 @ 2.00 = 20.00; r2: L2 5 @ 3.00 = 15.00 (MAIN 15 units, 35.00)
    # i3: 4 of L1 = 4 x 2.00 = 8.00; MAIN L1 6 @ 2 = 12.00, L2 15.00
    assert _cogs(product, m["i3"]) == D("8.00")
    # t4: 5 to EAST, the oldest: 5 of L1 = 10.00 moves with them; MAIN L1 1 @ 2 = 2.00, L2 15.00 (6 units, 17.00)
    t4 = CostEntry.objects.get(movement_id=m["t4"], warehouse=places["EAST"])
    assert (t4.quantity, t4.value) == (D(5), D("10.00"))
    # r5: L3 10 @ 4.00 = 40.00 (MAIN 16 units, 57.00)
    # i6: 7 = L1 1 @ 2 (2.00) + L2 5 @ 3 (15.00) + L3 1 @ 4 (4.00) = 21.00; MAIN L3 9 @ 4 = 36.00
    assert _cogs(product, m["i6"]) == D("21.00")
    # c7: EAST gains 1 at its average 10.00 / 5 = 2.00 (a new layer): EAST 6 units, 12.00
    assert CostEntry.objects.get(movement_id=m["c7"]).value == D("2.00")
    # c8: MAIN loses 1, the oldest left: 1 of L3 @ 4 = 4.00 (an adjustment, no COGS); MAIN L3 8 @ 4 = 32.00
    c8 = CostEntry.objects.get(movement_id=m["c8"])
    assert (c8.value, c8.cogs) == (D("-4.00"), D(0))
    # v9: i6 reversed: L1 1 @ 2, L2 5 @ 3, L3 1 @ 4 come back, 21.00; COGS -21.00 (MAIN 15 units, 53.00)
    assert _cogs(product, m["v9"]) == D("-21.00")
    # i10: EAST issues 3 of its oldest, the moved L1: 3 @ 2 = 6.00; EAST 2 @ 2 + 1 @ 2 = 6.00
    assert _cogs(product, m["i10"]) == D("6.00")
    # t11: within MAIN: no value moves
    assert {e.value for e in CostEntry.objects.filter(movement_id=m["t11"])} == {D(0)}
    # r12: no cost: the last known, 4.00, flagged: 2 x 4 = 8.00 (MAIN 17 units, 61.00)
    r12 = CostEntry.objects.get(movement_id=m["r12"])
    assert (r12.value, r12.unit_cost, r12.flagged) == (D("8.00"), D("4.00"), True)
    # COGS 8 + 21 - 21 + 6 = 14.00; closing MAIN 17 units 61.00, EAST 3 units 6.00, all 67.00
    # (in: 20 + 15 + 40 + 8 + gain 2 = 85; out: COGS 14 + loss 4 = 18; 85 - 18 = 67)
    assert sum((e.cogs for e in CostEntry.objects.filter(product=product)), D(0)) == D("14.00")
    assert _by_warehouse(product) == {"MAIN": (D(17), D("61.00")), "EAST": (D(3), D("6.00"))}
    assert sorted((l.warehouse.code, l.quantity, l.unit_cost) for l in CostLayer.objects.filter(product=product)) == [
        ("EAST", D(1), D(2)), ("EAST", D(2), D(2)),  # the gain's layer, the rest of L1
        ("MAIN", D(1), D(2)), ("MAIN", D(2), D(4)), ("MAIN", D(5), D(3)), ("MAIN", D(9), D(4)),  # L1, r12, L2, L3
    ]
    _same_after_rebuild(product)


def test_average_by_hand(post, clerk, places):
    product = ProductFactory(sku="AVG-1", valuation_method="average")
    m = _sequence(post, clerk, product, places)
    valuation_catch_up()
    # r1, r2: MAIN 15 units, 20 + 15 = 35.00
    # i3: 35 x 4 / 15 = 9.33333 -> 9.3333; MAIN 11 units, 25.6667
    assert _cogs(product, m["i3"]) == D("9.3333")
    # t4: 25.6667 x 5 / 11 = 11.66668 -> 11.6667 to EAST; MAIN 6 units, 14.0000
    assert CostEntry.objects.get(movement_id=m["t4"], warehouse=places["EAST"]).value == D("11.6667")
    # r5: + 40.00: MAIN 16 units, 54.0000
    # i6: 54 x 7 / 16 = 23.625; MAIN 9 units, 30.3750
    assert _cogs(product, m["i6"]) == D("23.6250")
    # c7: EAST gains 1 at 11.6667 / 5 = 2.33334 -> 2.3333; EAST 6 units, 14.0000
    assert CostEntry.objects.get(movement_id=m["c7"]).value == D("2.3333")
    # c8: MAIN loses 1 at 30.375 / 9 = 3.375; MAIN 8 units, 27.0000
    assert CostEntry.objects.get(movement_id=m["c8"]).value == D("-3.3750")
    # v9: i6 undone: + 7 units, + 23.6250, COGS -23.6250; MAIN 15 units, 50.6250
    assert _cogs(product, m["v9"]) == D("-23.6250")
    # i10: EAST 14 x 3 / 6 = 7.0000; EAST 3 units, 7.0000
    assert _cogs(product, m["i10"]) == D("7.0000")
    # r12: the last cost 4.00, flagged: + 8.00; MAIN 17 units, 58.6250
    assert CostEntry.objects.get(movement_id=m["r12"]).flagged
    # COGS 9.3333 + 23.6250 - 23.6250 + 7 = 16.3333; closing 58.6250 + 7 = 65.6250
    # (in: 20 + 15 + 40 + 8 + 2.3333 = 85.3333; out: 16.3333 + 3.375 = 19.7083; 85.3333 - 19.7083 = 65.625)
    assert sum((e.cogs for e in CostEntry.objects.filter(product=product)), D(0)) == D("16.3333")
    assert _by_warehouse(product) == {"MAIN": (D(17), D("58.6250")), "EAST": (D(3), D("7.0000"))}
    # by location: A-01 holds 2 + 2 = 4 of MAIN's 17: 58.625 x 4 / 17 = 13.79412 -> 13.7941; A-02 the rest, 13 of 17:
    # 58.625 x 13 / 17 = 44.83088 -> 44.8309
    by_location = {row["location_code"]: (row["quantity"], row["value"]) for row in valuation_on_hand(group_by="location", product=product.pk)}
    assert by_location == {"A-01": (D(4), D("13.7941")), "A-02": (D(13), D("44.8309")), "E-01": (D(3), D("7.0000"))}
    # the month's flows: receipts 20 + 15 + 40 + 8 = 83, COGS 16.3333, issued 4 + 7 - 7 + 3 = 7, received 27,
    # adjustments + 2.3333 - 3.375 = -1.0417
    (march,) = cost_flows(start=places["MAIN"].locations.first().movements.first().occurred_at.replace(day=1, hour=0),
                          end=_dt("2026-04-01T00:00:00Z"), group_by="product")
    assert (march["receipts_value"], march["cogs"], march["issued_quantity"], march["received_quantity"], march["adjustments_value"]) == (
        D("83.0000"), D("16.3333"), D(7), D(27), D("-1.0417"))
    _same_after_rebuild(product)


def _dt(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


def _same_after_rebuild(product):
    before = _by_warehouse(product)
    entries = sorted(CostEntry.objects.filter(product=product).values_list("movement_id", "location_id", "value", "cogs"))
    valuation_rebuild()
    assert _by_warehouse(product) == before
    assert sorted(CostEntry.objects.filter(product=product).values_list("movement_id", "location_id", "value", "cogs")) == entries
