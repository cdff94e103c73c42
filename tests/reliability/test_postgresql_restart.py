"""After PostgreSQL restarts, the first request each gunicorn worker serves succeeds, and a posting
sent right after the restart is recorded exactly once.

Each of the three workers has served requests (so each holds a persistent database connection,
which the restart breaks); then the test's own cluster restarts (``pg_ctl -m fast restart``), and
requests follow one at a time, on new connections, until every worker has served one.
"""
import uuid

import pytest

from .processes import MODES, PRODUCTION, Gunicorn, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.reliability]


@pytest.mark.parametrize("mode", MODES)
def test_the_first_request_after_a_postgresql_restart_succeeds(web, stack, record, mode):
    server = web(mode)
    catalog = server.new_catalog()
    product, location = catalog["product"], catalog["locations"][0]
    clerk = stack.new_user("clerk")

    def read(marker):
        return server.api.get(f"/api/v1/stock/?product={product}", token=clerk.token, marker=marker)

    def posting(marker, key=None):
        return server.api.receipt(product=product, location=location, quantity=5, token=clerk.token, key=key,
                                  marker=marker)

    warm = server.warm("warm-read", read) + server.warm("warm-post", posting)
    assert all(reply.ok for reply in warm), [str(reply) for reply in warm if not reply.ok]

    stack.postgres.restart()
    log_offset = server.gunicorn.process.log_size()

    key = f"after-restart-{uuid.uuid4()}"
    first = posting("after-restart-0", key=key)
    replies = [first]
    while _workers_since(server, log_offset) < Gunicorn.WORKERS and len(replies) < 30:
        replies.append(read(f"after-restart-{len(replies)}"))
    served = server.gunicorn.served("after-restart-", since=log_offset)
    record(f"{mode}: requests after the restart, (worker, path, status): "
           + ", ".join(f"({pid}, {path.split('?')[0]}, {status})" for pid, path, status in served))
    failed = [f"#{n}: {reply}" for n, reply in enumerate(replies) if not reply.ok]
    assert not failed, (f"{len(failed)} of the first {len(replies)} requests after the restart failed "
                        f"(the first is the posting):\n" + "\n".join(failed))

    retried = posting("after-restart-retry", key=key)
    assert retried.status == 201 and retried.headers.get("idempotent-replayed") == "true", (
        f"retrying the posting sent right after the restart answered {retried} with {retried.headers}"
    )
    recorded = stack.postgres.value("SELECT count(*) FROM ledger_movement WHERE idempotency_key = %s", [key])
    assert recorded == 1, f"the posting sent right after the restart is in the ledger {recorded} times"


def _workers_since(server, offset: int) -> int:
    return len({pid for pid, _, _ in server.gunicorn.served("after-restart-", since=offset)})


def test_readiness_names_the_database_while_it_is_down_and_recovers(web, stack, record):
    """/readyz says 503 with the database failing (the process itself still answers /healthz),
    and 200 again once PostgreSQL is back."""
    server = web(PRODUCTION)
    assert server.api.get("/readyz", token="").status == 200
    stack.postgres.stop()
    try:
        down = server.api.get("/readyz", token="")
        alive = server.api.get("/healthz", token="")
    finally:
        stack.postgres.start()
    record(f"/readyz with PostgreSQL stopped: {down}")
    assert down.status == 503 and down.body["status"] == "not_ready", f"/readyz answered {down}"
    assert down.body["checks"]["database"]["ok"] is False and "redis" in down.body["checks"]
    assert alive.status == 200
    back = wait_until(lambda: (reply := server.api.get("/readyz", token="")).status == 200 and reply,
                      timeout=30, what="/readyz to answer 200 once PostgreSQL is back")
    assert all(check["ok"] for check in back.body["checks"].values())
