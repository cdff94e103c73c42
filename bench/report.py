"""The one table a run prints, and the same as JSON under bench/results/.

Each row is one figure of one scenario beside its ceiling measured in the same run. The ratio
is always "share of the ceiling's speed": ours / ceiling for rates, ceiling / ours for
latencies, so 100% means as fast as the ceiling.
"""
import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

SCENARIOS = ("posting", "backdated", "lots", "contention", "batch", "load", "rebuild", "valuation", "as-of", "verify", "lag", "forecast")


@dataclass(frozen=True)
class Row:
    scenario: str
    metric: str
    ours: float | str
    unit: str = ""  # "/s", "ms", "s", "%" or "" (text)
    ceiling: float | None = None
    ceiling_label: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or not isinstance(self.ours, (int, float)) or not self.ours or not self.ceiling:
            return None
        latency = self.unit in ("ms", "s")
        return self.ceiling / self.ours if latency else self.ours / self.ceiling

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def _number(value, unit: str) -> str:
    if isinstance(value, str):
        return value
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.3f} s"
    if unit == "%":
        return f"{value:.1%}"
    return f"{value:,}"


def table(rows: list[Row]) -> str:
    header = ("scenario", "metric", "ours", "ceiling", "ratio", "target", "met?")
    rows = sorted(rows, key=lambda r: SCENARIOS.index(r.scenario))
    lines = []
    for row in rows:
        ceiling = f"{_number(row.ceiling, row.unit)} ({row.ceiling_label})" if row.ceiling is not None else ""
        ratio = f"{row.ratio:.0%}" if row.ratio is not None else ""
        met = {True: "yes", False: "NO", None: ""}[row.met]
        lines.append((row.scenario, row.metric, _number(row.ours, row.unit), ceiling, ratio, row.target, met))
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]

    def render(cells) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [render(header), render(["-" * w for w in widths]), *map(render, lines)]
    notes = [f"  {row.scenario} / {row.metric}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["notes:", *notes] if notes else []))


def machine(settings: dict[str, str]) -> dict:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "postgresql": settings,
    }


def describe(facts: dict) -> str:
    pg = facts["postgresql"]
    shown = ", ".join(f"{k}={v}" for k, v in pg.items() if k != "server_version")
    load = ", ".join(f"{facts[f'load_average_at_{when}'][0]:.2f} at {when}"
                     for when in ("start", "end") if f"load_average_at_{when}" in facts)
    return (f"machine: {facts['cores']} cores, {facts['memory_gib']} GiB, Python {facts['python']}, "
            f"PostgreSQL {pg['server_version']} ({shown}); load average {load}")


def write_json(directory: Path, document: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
