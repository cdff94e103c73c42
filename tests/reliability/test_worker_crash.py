"""A Celery worker killed (``kill -9``) in the middle of a catch-up or a rebuild loses and doubles
nothing: a new worker carries on, and every projection then equals the ledger.

The backlog is posted through the posting service while no worker runs, large enough that the
catch-up takes several transactions (``CATCH_UP_CHUNK`` events each, projection after projection):
the test watches the checkpoints and kills the worker once one has moved and others have not.
The rebuild is killed while it runs its statements that read the ledger or fill a fresh table.
"""
import subprocess
import time
from contextlib import closing

import pytest

from projections.rebuild import TOTALS

from .ledger_checks import assert_projections_equal_ledger, load_movements, wait_caught_up
from .processes import PRODUCTION, PYTHON, ROOT, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.reliability]

BACKLOG = 100_000  # events: about 10 s to post here, and a catch-up of about half a second
# The rebuild's statements that read the ledger (its totals) or fill a fresh table (see
# projections.rebuild), running now.
REBUILD_STATEMENTS = (
    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
    f"(query ILIKE 'CREATE TEMPORARY TABLE {TOTALS} %' OR query ILIKE 'INSERT INTO %\\_build %')"
)


def test_killing_the_worker_mid_catch_up_loses_and_doubles_nothing(stack, celery, record):
    loaded = load_movements(stack, BACKLOG)  # no worker runs: the catch-ups queue up in Redis
    head, before = stack.head(), stack.checkpoints()
    record(f"posted {loaded['posted']} movements in {loaded['seconds']:.1f} s; head {head}, checkpoints {before}")

    celery.beat.start()  # queues a catch-up every 10 s, as in production
    started = time.monotonic()
    celery.worker.start(wait=False)  # finds the catch-up the postings queued, and starts at once
    with closing(stack.postgres.connect()) as connection, connection.cursor() as cursor:
        def mid_catch_up():
            cursor.execute("SELECT name, position FROM projections_checkpoint")
            now = dict(cursor.fetchall())
            if all(position == head for position in now.values()):
                pytest.fail(f"the catch-up finished before the test could kill it: make BACKLOG larger than {BACKLOG}")
            return now if any(now[name] > before[name][0] for name in now) else None

        at_kill = wait_until(mid_catch_up, timeout=120, interval=0.002, what="the catch-up to be under way")
        celery.worker.kill()
    record(f"killed the worker {time.monotonic() - started:.2f} s after its start, checkpoints at {at_kill} "
           f"(head {head})")

    restarted = time.monotonic()
    celery.worker.start()
    wait_caught_up(stack, timeout=90, alive=(celery.worker.process,))  # beat queues one within 10 s
    record(f"a new worker caught up {time.monotonic() - restarted:.1f} s after it was started")
    assert_projections_equal_ledger(stack)
    verified = stack.verify_ledger()
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_killing_the_worker_mid_rebuild_loses_and_doubles_nothing(stack, celery, record):
    if stack.head() < BACKLOG:  # run on its own: make the rebuild long enough to kill
        load_movements(stack, BACKLOG)
    celery.start()
    stack.shell("from projections.tasks import catch_up; catch_up.delay()", mode=PRODUCTION)
    wait_caught_up(stack, timeout=90)
    rebuilt_before = _rebuilt_at(stack)

    # Queue the rebuild as an operator does, in the background, and watch for its statements.
    queueing = subprocess.Popen(
        [PYTHON, "manage.py", "rebuild_projections", "--queue"],
        cwd=ROOT, env=stack.env(PRODUCTION), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    started = time.monotonic()
    with closing(stack.postgres.connect()) as connection, connection.cursor() as cursor:
        def rebuilding():
            cursor.execute(REBUILD_STATEMENTS)
            running = cursor.fetchone()[0]
            if not running and _changed(rebuilt_before, _rebuilt_at(stack)) == sorted(rebuilt_before):
                pytest.fail(f"the rebuild finished before the test could kill it: make BACKLOG larger than {BACKLOG}")
            return running

        running = wait_until(rebuilding, timeout=60, interval=0.002, what="the rebuild's statements to run")
        celery.worker.kill()
    assert queueing.wait(timeout=60) == 0
    record(f"killed the worker {time.monotonic() - started:.2f} s after the rebuild was queued, while "
           f"{running} rebuild statement(s) ran")

    # The dead worker's transactions roll back: no half-built table is left behind.
    wait_until(lambda: not _rebuild_statements(stack), timeout=60, what="the dead worker's statements to end")
    leftovers = stack.postgres.query("SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_build'")
    assert not leftovers, f"half-built tables left behind: {leftovers}"
    record(f"projections rebuilt before the kill: {_changed(rebuilt_before, _rebuilt_at(stack)) or 'none'}")

    restarted = time.monotonic()
    celery.worker.start()
    load_movements(stack, 3, batch=3)  # more events, and the catch-up they queue
    wait_caught_up(stack, timeout=60, alive=(celery.worker.process,))
    record(f"a new worker caught up {time.monotonic() - restarted:.1f} s after it was started")
    assert_projections_equal_ledger(stack)


def _rebuild_statements(stack) -> int:
    return stack.postgres.value(REBUILD_STATEMENTS)


def _rebuilt_at(stack) -> dict:
    return dict(stack.postgres.query("SELECT name, rebuilt_at FROM projections_checkpoint"))


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after if after[name] != before.get(name))
