"""Scenario 7, verify: ``ledger_verify()`` over the whole hash chain. Ceiling: streaming the same
columns in the same order through a server-side cursor and doing nothing else with them.

Beside it, what an auditor without the application does: the ledger exported as JSON lines
(``ledger.export``), then checked by ``verifier/verify_export.py`` under ``python3 -I`` (the
standard library alone), its rate against the in-app verifier's."""
import json
import subprocess
import sys
import time

from ledger import chain
from ledger.export import export_lines
from ledger.verification import ledger_verify

from .. import targets
from ..context import Bench
from ..processes import ROOT
from ..report import Row

VERIFIER = ROOT / "verifier" / "verify_export.py"

ITERSIZE = 50_000


def _stream(bench: Bench) -> int:
    with bench.connection(autocommit=False) as connection, connection.cursor(name="bench_stream") as cursor:
        cursor.itersize = ITERSIZE
        cursor.execute(f"SELECT {', '.join(chain.CHAINED_FIELDS)}, hash FROM ledger_movement ORDER BY position")
        return sum(1 for _ in cursor)


def run(bench: Bench) -> list[Row]:
    started = time.monotonic()
    streamed = _stream(bench)
    ceiling = streamed / (time.monotonic() - started)
    started = time.monotonic()
    report = ledger_verify()
    seconds = time.monotonic() - started
    rate = report.events / seconds
    bench.details["verify"] = {**report.as_dict(), "seconds": seconds}
    return [
        Row("verify", "events/s", rate, "/s", ceiling, "server-side cursor stream",
            f">= {targets.VERIFY_RATE:,}/s", rate >= targets.VERIFY_RATE and report.intact,
            note=f"{report.events:,} events, {'intact' if report.intact else 'BROKEN: ' + str(report)}"),
        *_standalone(bench, rate),
    ]


def _standalone(bench: Bench, in_app: float) -> list[Row]:
    path = bench.work / "ledger.jsonl"
    started = time.monotonic()
    with path.open("w", encoding="utf-8") as out:
        out.writelines(export_lines())
    exported = time.monotonic() - started
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), str(path)], capture_output=True, text=True, timeout=3600)
    verified = time.monotonic() - started
    found = json.loads(done.stdout)
    size = path.stat().st_size
    path.unlink()
    bench.details["verify_standalone"] = {**found, "export_seconds": exported, "verify_seconds": verified, "bytes": size}
    events = found["events"]
    return [
        Row("verify", "export events/s", events / exported, "/s",
            note=f"{events:,} events as JSON lines, {size / 1e6:,.0f} MB"),
        Row("verify", "standalone verifier events/s", events / verified, "/s", in_app, "in-app verifier",
            met=found["intact"], note="python3 -I verifier/verify_export.py: the standard library alone, no database"),
    ]
