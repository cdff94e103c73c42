"""The quick benchmark runs end to end, so the harness cannot rot unnoticed. It checks that every
scenario ran and reported, and the run's correctness checks; it asserts no timing (the targets
are goals that the full run reports on, never timed unit tests)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import SCENARIOS

pytestmark = [pytest.mark.postgres, pytest.mark.services]

ROOT = Path(__file__).resolve().parents[2]


def require_wrk():
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is missing, and CI must run the benchmark (.ci/run installs it)")
        pytest.skip("wrk is missing (apt-get install wrk)")


def test_the_quick_benchmark_runs_every_scenario(tmp_path):
    require_wrk()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--results", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"

    printed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert set(SCENARIOS) <= printed, done.stdout
    (written,) = tmp_path.glob("*.json")
    result = json.loads(written.read_text())
    assert {row["scenario"] for row in result["rows"]} == set(SCENARIOS)
    assert all(isinstance(row["ours"], (int, float, str)) for row in result["rows"])

    details = result["details"]
    assert details["contention"]["negative"] == 0 and details["contention"]["mismatched"] == 0
    assert details["verify"]["intact"]
    assert details["lag"]["drained"] == {"projection": True, "valuation": True}
    assert details["as-of"]["failed"] == 0 and details["as-of"]["bitemporal_failed"] == 0
    assert 0 < details["forecast"]["forecasts"] <= details["forecast"]["series"]
