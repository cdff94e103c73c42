"""Scenario 1c, lots: issues of products tracked by lot, each allocated first-expiring-first
(FEFO) over the API, beside the same issues of untracked products, under the same gunicorn and
the same wrk script.

Each tracked product (made for this scenario, so no other scenario posts to it without a lot)
holds three lots at one location, each expiring on another day and stocked well enough that no
issue of the load runs short: FEFO reads the candidate lots, takes the first, and posts one event.
The untracked side is scenario 1's pool (one location per line for issues). The two loads run
alternately, twice each (untracked, tracked, tracked, untracked), so drift on a shared machine
falls on both; each figure is the two runs together. Queries per posting are counted in-process
around one POST of each.
"""
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import Category, Product, Tracking

from ..context import MOVEMENTS, Bench
from ..data import post_in_batches
from ..loadgen import WrkResult, wrk
from ..movements import Mix, write_pool
from ..report import Row
from .posting import queries_of

ISSUES = Mix(receipt=0, issue=100)
LOTS = (("A", 10), ("B", 20), ("C", 40))  # code suffix, days to expiry
LOT_STOCK = 1_000_000  # per lot: the load never exhausts the first one
TARGET = 0.75  # a FEFO issue no more than 25% slower than an untracked one (issue 14)


def _tracked_pool(bench: Bench) -> list[tuple[int, int, int]]:
    """Products tracked by lot, as many as scenario 1's pool, each with three lots at one location."""
    category = Category.objects.create(name="Bench lots")
    products = Product.objects.bulk_create(
        Product(sku=f"LOT-{i:06d}", name=f"Lot product {i}", category=category, unit_price=Decimal("2.5"),
                tracking=Tracking.LOT)
        for i in range(1, len(bench.pool) + 1)
    )
    today = timezone.localdate()
    pool = [(p.pk, bench.rng.choice(bench.locations)) for p in products]
    post_in_batches(bench.clerk, (
        {"kind": "receipt", "product": product, "location": location, "quantity": str(LOT_STOCK), "unit_cost": "2.40",
         "lot": f"{product}-{code}", "expires_on": (today + timedelta(days=days)).isoformat()}
        for product, location in pool for code, days in LOTS
    ))
    return [(product, location, location) for product, location in pool]


def _combined(runs: list[WrkResult]) -> WrkResult:
    statuses: dict[int, int] = {}
    for run in runs:
        for status, n in run.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return WrkResult(
        seconds=sum(r.seconds for r in runs), requests=sum(r.requests for r in runs), statuses=statuses,
        socket_errors=sum(r.socket_errors for r in runs),
        p50_ms=max(r.p50_ms for r in runs), p99_ms=max(r.p99_ms for r in runs),
    )


def run(bench: Bench) -> list[Row]:
    tracked = _tracked_pool(bench)
    tracked_path = write_pool(bench.work / "lots.txt", tracked)
    url = bench.app_url + MOVEMENTS
    sides: dict[str, list[WrkResult]] = {"untracked": [], "tracked": []}
    paths = {"untracked": bench.pool_path, "tracked": tracked_path}
    wrk(url, tracked_path, bench.clerk_token, "lots-warmup", ISSUES, bench.sizes.warmup)
    for n, side in enumerate(("untracked", "tracked", "tracked", "untracked")):
        sides[side].append(wrk(url, paths[side], bench.clerk_token, f"lots-{side}-{n}", ISSUES, bench.sizes.duration))
    untracked, fefo = _combined(sides["untracked"]), _combined(sides["tracked"])
    def issue(product: int, location: int, *_) -> dict:
        return {"kind": "issue", "product": product, "location": location, "quantity": "1"}

    queries = queries_of(
        bench, {"untracked issue": issue(*bench.pool[0]), "FEFO issue": issue(*tracked[0])},
        warmups=[issue(*bench.pool[0]), issue(*tracked[0])], tag="lots-queries",
    )
    bench.details["lots"] = {
        "untracked": [asdict(r) for r in sides["untracked"]], "tracked": [asdict(r) for r in sides["tracked"]],
        "products": len(tracked), "queries": queries,
    }
    failures = "" if not (fefo.failed or untracked.failed) else f"statuses {fefo.statuses} / {untracked.statuses}"
    return [
        Row("lots", "FEFO issues/s", fefo.rate, "/s", untracked.rate, "untracked issues",
            f">= {TARGET:.0%} of untracked", fefo.rate >= TARGET * untracked.rate, note=failures),
        Row("lots", "FEFO issue p99", fefo.p99_ms, "ms", untracked.p99_ms, "untracked issues"),
        Row("lots", "SQL queries per issue", ", ".join(f"{kind} {len(q)}" for kind, q in queries.items()),
            note="in-process, one POST each; the SQL is in the JSON"),
    ]
