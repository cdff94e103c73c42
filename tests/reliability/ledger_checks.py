"""What the ledger says, by SQL of its own (not the projections' queries), compared with what the
projections and the guard rows hold; and bulk loading of movements through the posting service."""
import json
import re
import time

from .processes import PRODUCTION, wait_until

_SEVERE = re.compile(r"\b(CRITICAL|ERROR)\b")
_EXCEPTION = re.compile(r"^[\w.]+(Error|Exception|Interrupted): ")

# Every leg of every movement: (product, location, signed change).
_LEGS = """
    SELECT product_id, location_id, delta AS change FROM ledger_movement
    UNION ALL
    SELECT product_id, to_location_id, -delta FROM ledger_movement WHERE to_location_id IS NOT NULL
"""

# (what, SQL of rows that differ between the ledger's totals and the stored ones); zero rows are
# the same as no row.
_DIFFERENCES = {
    "stock per product and location": f"""
        WITH ledger AS (SELECT product_id, location_id, SUM(change) AS q FROM ({_LEGS}) legs GROUP BY 1, 2),
             stored AS (SELECT product_id, location_id, quantity AS q FROM projections_productlocationstock)
        SELECT product_id, location_id, ledger.q, stored.q FROM ledger FULL JOIN stored USING (product_id, location_id)
         WHERE coalesce(ledger.q, 0) <> coalesce(stored.q, 0)""",
    "stock per product": """
        WITH ledger AS (SELECT product_id, SUM(delta) FILTER (WHERE to_location_id IS NULL) AS q
                          FROM ledger_movement GROUP BY 1),
             stored AS (SELECT product_id, quantity AS q FROM projections_productstock)
        SELECT product_id, ledger.q, stored.q FROM ledger FULL JOIN stored USING (product_id)
         WHERE coalesce(ledger.q, 0) <> coalesce(stored.q, 0)""",
    "stock per location": f"""
        WITH ledger AS (SELECT location_id, SUM(change) AS q FROM ({_LEGS}) legs GROUP BY 1),
             stored AS (SELECT location_id, quantity AS q FROM projections_locationstock)
        SELECT location_id, ledger.q, stored.q FROM ledger FULL JOIN stored USING (location_id)
         WHERE coalesce(ledger.q, 0) <> coalesce(stored.q, 0)""",
    "guard rows (the write side's on-hand)": f"""
        WITH ledger AS (SELECT product_id, location_id, SUM(change) AS q FROM ({_LEGS}) legs GROUP BY 1, 2),
             stored AS (SELECT product_id, location_id, quantity AS q FROM ledger_stocklevel)
        SELECT product_id, location_id, ledger.q, stored.q FROM ledger FULL JOIN stored USING (product_id, location_id)
         WHERE coalesce(ledger.q, 0) <> coalesce(stored.q, 0)""",
}


def caught_up(stack) -> bool:
    head = stack.head()
    return all(position == head for position, _ in stack.checkpoints().values())


def wait_caught_up(stack, *, timeout: float, alive=()) -> float:
    """Wait until every checkpoint is at the ledger's head; return how long it took. Fail at once
    if one of the ``alive`` processes (those that should do the work) has exited."""
    started = time.monotonic()

    def done() -> bool:
        for process in alive:
            assert process.alive(), (
                f"{process.name} exited (code {process.popen.returncode}) instead of catching up; "
                f"its log ({process.log}) says:\n" + "\n".join(_worst_lines(process.log_text()))
            )
        return caught_up(stack)

    try:
        wait_until(done, timeout=timeout, interval=0.2, what="the projections to catch up with the head")
    except TimeoutError as error:
        raise AssertionError(f"{error}: checkpoints {stack.checkpoints()}, head {stack.head()}") from None
    return time.monotonic() - started


def _worst_lines(log: str, limit: int = 10) -> list[str]:
    """A log's CRITICAL and ERROR lines and its exceptions (or its last lines if none)."""
    lines = log.splitlines()
    found = [line for line in lines if _SEVERE.search(line) or _EXCEPTION.match(line)]
    return found[-limit:] or lines[-limit:]


def assert_projections_equal_ledger(stack) -> None:
    """Every checkpoint at the head, every event applied once, every stored total the ledger's,
    and ``verify_projections`` agreeing."""
    head = stack.head()
    checkpoints = stack.checkpoints()
    assert all(position == head for position, _ in checkpoints.values()), f"head {head}, checkpoints {checkpoints}"
    doubled = {name: (position, applied) for name, (position, applied) in checkpoints.items() if applied != position}
    assert not doubled, f"events applied differ from the checkpoint's position (doubled or lost): {doubled}"
    differences = {what: rows for what, sql in _DIFFERENCES.items() if (rows := stack.postgres.query(sql))}
    assert not differences, f"totals differ from the ledger's (key..., ledger, stored): {differences}"
    verified = stack.verify_projections()
    assert verified.returncode == 0, f"verify_projections exited {verified.returncode}:\n{verified.stdout}{verified.stderr}"


# Posts ``total`` movements as the demo clerk over the demo catalog, ``batch`` at a time, through
# the posting service (hash chain, guard rows, idempotency keys: everything a posting does). In
# the production environment, so each commit queues its catch-up for a Celery worker.
_LOAD = """
import json, time
from django.contrib.auth.models import User
from catalog.models import Location, Product
from ledger.parsing import parse_movement
from ledger.services import movements_post

clerk = User.objects.get(username="clerk")
products = list(Product.objects.filter(sku__in=["BOLT-M8", "NUT-M8", "DRILL-18V", "PAINT-W10", "CABLE-3x1.5"])
                .order_by("pk").values_list("pk", flat=True))
locations = list(Location.objects.filter(warehouse__code__in=["MAIN", "EAST"]).order_by("pk").values_list("pk", flat=True))
P, L = len(products), len(locations)


def batch(n):
    # Receipts first, then transfers and issues from the (product, location) pairs that received
    # (4 each), at most 1 out of each pair per 4 received.
    half, quarter = n // 2, n // 4
    items = []
    for k in range(half):
        item = {"kind": "receipt", "product": products[k % P], "location": locations[k % L], "quantity": "4"}
        if k % 3 == 0:
            item["unit_cost"] = "1.2500"
        items.append(item)
    for k in (k % max(half, 1) for k in range(quarter)):
        items.append({"kind": "transfer", "product": products[k % P], "from_location": locations[k % L],
                      "to_location": locations[(k + 1) % L], "quantity": "1"})
    for k in (k % max(half, 1) for k in range(n - half - quarter)):
        items.append({"kind": "issue", "product": products[k % P], "location": locations[k % L], "quantity": "1"})
    return items


started, posted = time.monotonic(), 0
while posted < TOTAL:
    n = min(BATCH, TOTAL - posted)
    movements_post(user=clerk, movements=[parse_movement(item) for item in batch(n)])
    posted += n
print(json.dumps({"posted": posted, "seconds": time.monotonic() - started}))
"""


def load_movements(stack, total: int, *, batch: int = 5000) -> dict:
    """Post ``total`` movements in one ``manage.py shell`` (production environment); return
    {"posted": n, "seconds": s}."""
    code = f"TOTAL, BATCH = {total}, {batch}\n{_LOAD}"
    output = stack.shell(code, mode=PRODUCTION, timeout=600)
    return json.loads(output.strip().splitlines()[-1])
