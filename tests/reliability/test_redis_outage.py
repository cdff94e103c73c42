"""With Redis down (cache and broker), posting goes on; when it is back, the projections catch up.

Production mode: gunicorn with three workers, a Celery worker and beat, all on a Redis of the
test's own, which the test stops while clerks post, and starts again empty (as after a restart of
a Redis that keeps nothing). Nothing else is stopped or restarted.
"""
import time
from collections import Counter
from decimal import Decimal

import pytest

from .ledger_checks import wait_caught_up
from .processes import PRODUCTION, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.reliability]

POSTINGS_WHILE_DOWN = 20
SLOWEST_POSTING = 1.5  # seconds: a posting must not wait for the dead Redis to time out
CATCH_UP_WITHIN = 45  # seconds after Redis is back: beat queues a catch-up every 10 s, and the
                      # worker and beat reconnect to the broker with back-off


def test_posting_goes_on_with_redis_down_and_projections_catch_up_after(web, celery, stack, record):
    server = web(PRODUCTION)
    celery.start()
    catalog = server.new_catalog()
    product, location = catalog["product"], catalog["locations"][0]
    clerk = stack.new_user("clerk")
    posted = Decimal(0)
    for quantity in (1, 2, 3):
        reply = server.api.receipt(product=product, location=location, quantity=quantity, token=clerk.token)
        assert reply.status == 201, f"a posting with Redis up answered {reply}"
        posted += quantity

    assert _readiness(server)["checks"]["redis"]["ok"] is True

    stack.redis.stop()
    # Readiness reports Redis down, and stays ready: the ledger works without it.
    ready = server.api.get("/readyz", token="")
    assert ready.status == 200 and ready.body["checks"]["redis"]["ok"] is False, f"/readyz answered {ready}"
    replies = []
    for n in range(1, POSTINGS_WHILE_DOWN + 1):
        reply = server.api.receipt(product=product, location=location, quantity=n, token=clerk.token,
                                   marker=f"redis-down-{n}")
        replies.append(reply)
        if reply.status == 201:
            posted += n
    stack.redis.start()
    redis_back = time.monotonic()

    latencies = sorted(reply.seconds for reply in replies)
    record(f"{POSTINGS_WHILE_DOWN} postings with Redis down: answers {dict(Counter(r.status for r in replies))}; "
           f"latency p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
           f"(each: {', '.join(f'{r.seconds * 1000:.0f}' for r in replies)} ms)")
    refused = [f"#{n}: {reply}" for n, reply in enumerate(replies, 1) if reply.status != 201]
    assert not refused, "postings with Redis down were not recorded:\n" + "\n".join(refused)
    assert latencies[-1] < SLOWEST_POSTING, f"the slowest posting with Redis down took {latencies[-1]:.2f} s"

    # Redis is back, empty: the postings could not queue their catch-up, but beat does within 10 s.
    wait_caught_up(stack, timeout=CATCH_UP_WITHIN, alive=(celery.worker.process, celery.beat.process))
    statuses = wait_until(lambda: _all_at_head(server.api.status(token=server.manager)), timeout=10,
                          what="/stock/status/ to show no lag")
    record(f"projections caught up {time.monotonic() - redis_back:.1f} s after Redis was back: {statuses}")
    assert server.api.stock(token=server.manager, product=product) == {(product, location): posted}
    assert _readiness(server)["checks"]["redis"]["ok"] is True


def _readiness(server) -> dict:
    reply = server.api.get("/readyz", token="")
    assert reply.status == 200, f"/readyz answered {reply}"
    return reply.body
    verified = stack.verify_projections()
    assert verified.returncode == 0, f"verify_projections exited {verified.returncode}:\n{verified.stdout}{verified.stderr}"


def _all_at_head(statuses: list[dict]):
    if statuses and all(s["lag_events"] == 0 and s["position"] == s["head"] for s in statuses):
        return {s["name"]: s["position"] for s in statuses}
    return None
