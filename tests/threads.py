"""Threads on real database connections, for tests of concurrent postings and reads."""
import threading

from django.db import connection


def run_concurrently(functions, timeout=30):
    """Start every function in its own thread (own database connection) at the same moment;
    return their results or exceptions, in order."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # the test inspects what each thread met
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a posting thread hung (deadlock?)"
    return results


class Background:
    """Run a function in a thread (on its own connection) alongside the test; ``result()`` waits
    for it and returns its value or raises what it raised."""

    def __init__(self, function):
        self._outcome: dict = {}
        self._thread = threading.Thread(target=self._run, args=(function,))
        self._thread.start()

    def _run(self, function):
        try:
            self._outcome["value"] = function()
        except Exception as exc:  # handed to the test by result()
            self._outcome["error"] = exc
        finally:
            connection.close()

    def result(self, timeout=30):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the background thread hung"
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["value"]
