"""Scenario 9, forecast: the nightly forecasting task over every product of the large ledger
(``forecasts.tasks.nightly_forecast_run``, called as the worker calls it), in a fresh process so
that its peak memory (``VmHWM``) is its own. Ceiling: the reads alone that the run must make, the four
``GROUP BY`` queries of ``forecasts.selectors`` (demand by week, first movements, stock change by
week, stock on hand), timed in the same process just before; and its memory beside the process's
after Django's start-up. The load scenario dates its events over the past year, so each
product-warehouse has up to 52 weeks of mostly sparse demand."""
import multiprocessing
import time
from datetime import datetime, time as day_start

import django

from ..context import Bench
from ..report import Row


def _memory_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, from /proc: ``ru_maxrss`` would not
    do, as Linux carries it over an exec from the parent that forked."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(f"{field}:")).split()[1]) / 1024


def _in_child() -> dict:
    from django.utils import timezone

    from forecasts import selectors
    from forecasts.models import ForecastRun
    from forecasts.periods import WEEK
    from forecasts.services import cutoff_of
    from forecasts.tasks import nightly_forecast_run

    started_mib = _memory_mib("VmRSS")
    before = datetime.combine(cutoff_of(timezone.localdate()), day_start.min, tzinfo=timezone.get_current_timezone())
    started = time.monotonic()
    selectors.demand(before=before, period=WEEK)
    selectors.first_movements(before=before)
    selectors.weekly_stock_change(before=before)
    selectors.on_hand()
    reads = time.monotonic() - started
    started = time.monotonic()
    nightly_forecast_run()
    seconds = time.monotonic() - started
    run = ForecastRun.objects.order_by("-pk").first()
    return {"reads_seconds": reads, "seconds": seconds, "started_mib": started_mib, "peak_mib": _memory_mib("VmHWM"),
            "series": run.series, "forecasts": run.forecasts, "to_order": run.to_order}


def run(bench: Bench) -> list[Row]:
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: its own peak memory
    with spawn.Pool(1, initializer=django.setup) as pool:
        found = pool.apply(_in_child)
    bench.details["forecast"] = found
    note = (f"{found['series']:,} product-warehouses, {found['forecasts']:,} forecast, {found['to_order']:,} to order; "
            f"reads {found['reads_seconds']:.1f} s of it")
    return [
        Row("forecast", "nightly run, all products", found["seconds"], "s", found["reads_seconds"],
            "its reads alone (4 GROUP BYs)", note=note),
        Row("forecast", "product-warehouses/s", found["series"] / found["seconds"], "/s"),
        Row("forecast", "peak memory", f"{found['peak_mib']:,.0f} MiB",
            note=f"the process held {found['started_mib']:,.0f} MiB after Django's start-up"),
    ]
