"""Queuing catch-ups after postings: one run per gathering window whatever the number of
processes posting, and each posting seen by a run that starts after its commit. Two queues of one
name stand for two processes sharing the cache (Django's cache, as each process has it)."""
import time

import pytest
from django.core.cache import cache

from common.catch_up import CLOCK_SKEW_SECONDS, GATHER_SECONDS, CatchUpQueue


class _Conf:
    task_always_eager = False


class _App:
    conf = _Conf()


class RecordingTask:
    """A Celery task as the queue uses it, noting each run queued (its countdown)."""

    app = _App()

    def __init__(self):
        self.queued: list[float] = []

    def apply_async(self, *, countdown: float) -> None:
        self.queued.append(countdown)


@pytest.fixture
def processes():
    task = RecordingTask()
    first, second = CatchUpQueue("test-read-side", task), CatchUpQueue("test-read-side", task)
    cache.delete(first.pending_key)
    yield task, first, second
    cache.delete(first.pending_key)


def test_postings_of_every_process_in_one_window_queue_one_run(processes):
    task, first, second = processes
    first.schedule()
    assert task.queued == [GATHER_SECONDS]
    assert cache.get(first.pending_key) > time.time()  # the flag holds when the run will start
    for _ in range(5):
        first.schedule()
        second.schedule()
    assert task.queued == [GATHER_SECONDS]


def test_a_process_that_found_a_pending_run_asks_again_once_it_may_have_started(processes):
    task, first, second = processes
    first.schedule()
    second.schedule()  # found the flag, and when its run starts
    # Not before that time can the run have started: the other process does not even ask.
    cache.delete(first.pending_key)
    second.schedule()
    assert task.queued == [GATHER_SECONDS]
    time.sleep(GATHER_SECONDS - CLOCK_SKEW_SECONDS + 0.01)
    # From then on the run may have started (it cleared the flag): this posting needs a run of its own.
    second.schedule()
    assert task.queued == [GATHER_SECONDS, GATHER_SECONDS]


def test_a_flag_whose_run_is_overdue_is_asked_about_on_every_posting(processes):
    """A flag left by a lost message (or a run that has not cleared it yet) names a start time past:
    every posting asks, and the first after it is cleared queues a run."""
    task, first, _ = processes
    cache.set(first.pending_key, time.time() - 1, 60)
    first.schedule()
    assert task.queued == []
    cache.delete(first.pending_key)  # the overdue run starts
    first.schedule()
    assert task.queued == [GATHER_SECONDS]


def test_a_run_that_cannot_be_queued_leaves_no_flag(processes):
    task, first, _ = processes

    def broker_down(*, countdown: float) -> None:
        raise ConnectionError("broker down")

    task.apply_async = broker_down
    first.schedule()  # the posting stands; nothing is queued and the next posting may try
    assert cache.get(first.pending_key) is None
