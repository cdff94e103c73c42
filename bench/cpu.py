"""CPU time used meanwhile by the servers, read from /proc: it says where a request's time goes
(Python in gunicorn or the worker, or PostgreSQL), which a rate alone cannot."""
import os
from contextlib import contextmanager
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES = "postgres"  # the name under which the database backends' time is reported


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _by_pid() -> dict[int, tuple[int, float]]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            stats[int(entry)] = stat
    return stats


def _tree(stats: dict[int, tuple[int, float]], root: int) -> dict[int, float]:
    members, grew = {root}, True
    while grew:
        children = {pid for pid, (parent, _) in stats.items() if parent in members} - members
        members |= children
        grew = bool(children)
    return {pid: stats[pid][1] for pid in members if pid in stats}


def _backends(bench, stats) -> dict[int, float]:
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [bench.dbname])
        return {pid: stats[pid][1] for (pid,) in cursor.fetchall() if pid in stats}


def _snapshot(bench, roots: dict[str, int]) -> dict[str, dict[int, float]]:
    stats = _by_pid()
    return {**{name: _tree(stats, pid) for name, pid in roots.items()}, POSTGRES: _backends(bench, stats)}


@contextmanager
def cpu_used(bench, roots: dict[str, int]):
    """Yield a dict that is filled on leaving: CPU seconds used meanwhile by each named process
    tree and (as "postgres") by the backends connected to the bench database. A process that
    ends meanwhile is not counted."""
    used: dict[str, float] = {}
    before = _snapshot(bench, roots)
    yield used
    after = _snapshot(bench, roots)
    for name, seconds in after.items():
        used[name] = sum(value - before[name].get(pid, 0.0) for pid, value in seconds.items())
