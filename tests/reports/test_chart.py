"""The stock-over-time chart: its dots are the ledger's balances at each change (read back from the
SVG), on a step line from the opening at ``from`` to the closing at ``to``; its JSON is the same."""
import random
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from ledger.models import Movement
from reports import api
from tests.replay import legs_of

from .conftest import JANUARY
from .ledgers import random_ledger

pytestmark = pytest.mark.django_db
CHART = "/api/v1/reports/stock/chart/"
SVG = "{http://www.w3.org/2000/svg}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def balances_at_changes(product: int, locations: set[int], start: datetime, end: datetime):
    """(opening, [(business time, balance after it)] where the balance changed), folded in the test."""
    changes = defaultdict(Decimal)
    opening = Decimal(0)
    for movement in Movement.objects.filter(product_id=product, occurred_at__lt=end):
        for location, change in legs_of(movement):
            if location in locations:
                if movement.occurred_at < start:
                    opening += change
                else:
                    changes[movement.occurred_at] += change
    balance, points = opening, []
    for at in sorted(changes):
        if changes[at]:
            balance += changes[at]
            points.append((at, balance))
    return opening, points


def read_chart(svg: bytes):
    """(title, axis titles, dots as (cx, cy, time, quantity), the step line's vertices)."""
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text") if "title" in (t.get("class") or "")]
    groups = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("series ")]
    dots = []
    for group in (d for g in groups if "serie-1" in g.get("class") for d in g.iter(f"{SVG}g") if d.get("class") == "dots"):
        circle, label = group.find(f"{SVG}circle"), group.find(f"{SVG}desc[@class='label']")
        quantity, at = re.fullmatch(r"(-?[0-9.]+) \w+ at (\S+)", label.text).groups()
        dots.append((float(circle.get("cx")), float(circle.get("cy")), _time(at), Decimal(quantity)))
    [line] = [p for g in groups if "serie-0" in g.get("class") for p in g.iter(f"{SVG}path") if "line" in p.get("class")]
    numbers = [float(n) for n in re.findall(r"-?[0-9.]+", line.get("d"))]
    return texts, dots, list(zip(numbers[::2], numbers[1::2]))


@pytest.mark.parametrize("seed", [21, 22])
def test_the_dots_are_the_ledgers_balances_at_each_change_on_a_step_line(seed, clerk, auditor_client):
    rng = random.Random(seed)
    products, warehouses, locations, first = random_ledger(rng, clerk, movements=120)
    product, warehouse = rng.choice(products), warehouses[0]
    start, end = first + timedelta(days=10), first + timedelta(days=50)
    query = {"product": product.pk, "warehouse": warehouse.pk, "from": start.isoformat(), "to": end.isoformat()}
    answer = auditor_client.get(CHART, query)
    assert answer["Content-Type"] == "image/svg+xml; charset=utf-8"
    texts, dots, line = read_chart(answer.content)

    opening, expected = balances_at_changes(product.pk, {l.pk for l in locations if l.warehouse_id == warehouse.pk}, start, end)
    assert expected, "the random ledger moved nothing in the period: choose another seed"
    assert [(at, quantity) for _, _, at, quantity in dots] == expected
    # Each dot is drawn where its label says: y falls as the quantity rises, x moves on with time, both linearly.
    (x0, y0, t0, q0), *rest = dots
    distinct = [d for d in rest if d[3] != q0]
    if distinct:
        scale = (distinct[0][1] - y0) / float(distinct[0][3] - q0)
        assert scale < 0
        assert all(abs((y - y0) - scale * float(q - q0)) < 1e-6 * max(1, abs(y)) for _, y, _, q in rest)
    assert all(a[0] < b[0] for a, b in zip(dots, dots[1:]))
    # The step line: level from the opening at `from`, then up or down at each change, level to `to`.
    assert len(line) == 2 + 2 * len(dots)
    for (xa, ya), (xb, yb) in zip(line, line[1:]):
        assert xa == pytest.approx(xb) or ya == pytest.approx(yb)
    assert [line[2 + 2 * i] for i in range(len(dots))] == [pytest.approx((x, y)) for x, y, _, _ in dots]
    assert line[-1][1] == pytest.approx(dots[-1][1]) and line[0][1] == pytest.approx(line[1][1])

    title, *axes = texts
    assert title == (f"{product.sku} {product.name} at warehouse {warehouse.code}, "
                     f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    assert axes == ["Business time (UTC)", f"Quantity ({product.unit})"]

    data = auditor_client.get(CHART, {**query, "format": "json"}).json()
    assert [(_time(p["at"]), Decimal(p["quantity"])) for p in data["points"]] == expected
    assert (Decimal(data["opening"]), Decimal(data["closing"])) == (opening, expected[-1][1])
    assert data["where"] == f"warehouse {warehouse.code}"


def test_a_period_without_change_is_a_level_line(auditor_client, stocked, bins):
    answer = auditor_client.get(CHART, {"product": stocked.pk, "location": bins[0].pk, "from": "2026-03-01", "to": "2026-04-01"})
    texts, dots, line = read_chart(answer.content)
    assert dots == [] and len(line) == 2 and line[0][1] == line[1][1]
    assert texts[0].startswith(f"{stocked.sku} {stocked.name} at MAIN/A-01, 2026-03-01 00:00 to 2026-04-01 00:00 UTC")
    data = auditor_client.get(CHART, {"product": stocked.pk, "location": bins[0].pk, "from": "2026-03-01",
                                      "to": "2026-04-01"}, HTTP_ACCEPT="application/json").json()
    assert (data["opening"], data["closing"], data["points"]) == ("70.000", "70.000", [])


def test_a_transfer_inside_the_scope_is_no_change(auditor_client, stocked):
    data = auditor_client.get(CHART, {**JANUARY, "product": stocked.pk, "format": "json"}).json()
    assert [(p["at"], p["quantity"]) for p in data["points"]] == [
        ("2026-01-05T08:00:00Z", "100.000"), ("2026-01-20T08:00:00Z", "88.000")]
    assert data["where"] == "every location"


def test_extreme_periods_draw(auditor_client, stocked):
    for period in ({"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"},
                   {"from": "2026-01-05T08:00:00Z", "to": "2026-01-05T08:00:00.000001Z"}):
        answer = auditor_client.get(CHART, {**period, "product": stocked.pk})
        assert answer.status_code == 200, answer.content
        ET.fromstring(answer.content)


def test_a_chart_of_too_many_changes_is_refused_naming_the_period(auditor_client, stocked, monkeypatch):
    monkeypatch.setattr(api, "MAX_POINTS", 1)
    body = auditor_client.get(CHART, {**JANUARY, "product": stocked.pk}).json()
    assert (body["code"], list(body["errors"])) == ("validation_error", ["from"])
    assert "at most 1" in body["detail"]
