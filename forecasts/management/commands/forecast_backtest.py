from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasts.backtest import MIN_WINDOWS, SELECTION_WINDOWS, Plan, selection_needs
from forecasts.demand_csv import Columns, DemandFileError, read_demand
from forecasts.evaluation import SELECTION, Evaluation, evaluate
from forecasts.methods import methods
from forecasts.periods import DAY, SEASON, WEEK


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:+.1%}"


def table(evaluation: Evaluation) -> list[str]:
    """The lines: each method, then the selection, with RMSSE, RMSSE against seasonal naive and bias."""
    header = ("method", "RMSSE", "vs seasonal naive", "bias", "series")
    rows = [(line.name, "" if line.rmsse is None else f"{line.rmsse:.4f}", _percent(line.against_baseline),
             _percent(line.bias), str(line.series)) for line in evaluation.lines]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths)))
           for row in [header, *rows]]
    out.insert(1, "  ".join("-" * width for width in widths))
    out.insert(len(out) - 1, "")
    return out


class Command(BaseCommand):
    help = (
        "Backtest every forecasting method, and choosing one per series as the nightly run does, on the demand "
        "history in a CSV file (a header; a date, a series name and a quantity per row; see forecasts/demand_csv.py) "
        "and print per method and for the selection the RMSSE, the RMSSE against seasonal naive and the bias."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--period", choices=(WEEK, DAY), default=WEEK, help="Periods to add the demand up in (default week).")
        parser.add_argument("--horizon", type=int, default=4, help="Periods each window forecasts (default 4).")
        parser.add_argument("--windows", type=int, default=4, help=f"Windows scored, a horizon apart (default 4, at least {MIN_WINDOWS}).")
        parser.add_argument("--season", type=int, help="Seasonal naive's period in periods (default 4 weeks, or 7 days).")
        parser.add_argument("--date-column", default="date")
        parser.add_argument("--series-column", default="series")
        parser.add_argument("--quantity-column", default="quantity")

    def handle(self, *args, file: Path, period: str, horizon: int, windows: int, season: int | None, **options):
        if horizon < 1 or windows < MIN_WINDOWS or (season is not None and season < 1):
            raise CommandError(f"--horizon and --season must be at least 1, --windows at least {MIN_WINDOWS}.")
        columns = Columns(options["date_column"], options["series_column"], options["quantity_column"])
        try:
            series, periods = read_demand(file, period, columns)
        except (OSError, DemandFileError) as error:
            raise CommandError(str(error)) from None
        season = season or SEASON[period]
        plan = Plan(horizon, windows)
        evaluation = evaluate(series, plan, methods(season))
        zeros = sum(int((y == 0).sum()) for y in series.values()) / (len(series) * len(periods))
        self.stdout.write(
            f"{file.name}: {len(series)} series over {len(periods)} {period}s from {periods[0]} to {periods[-1]} "
            f"({zeros:.0%} of the weeks without demand); {windows} windows of {horizon} {period}s, {horizon} apart; "
            f"seasonal naive of {season} {period}s; the selection chooses per series and window on up to "
            f"{SELECTION_WINDOWS} windows before the cut."
        )
        if evaluation.too_short:
            self.stdout.write(f"{evaluation.too_short} series left out: shorter than the "
                              f"{selection_needs(plan)} {period}s a backtest of the selection needs.")
        if not evaluation.series:
            raise CommandError("No series is long enough to backtest.")
        self.stdout.write("\n".join(table(evaluation)))
        chosen = ", ".join(f"{name} {count}" for name, count in evaluation.chosen.most_common())
        self.stdout.write(f"\n{SELECTION}: chosen in {evaluation.series * windows} windows: {chosen}")
