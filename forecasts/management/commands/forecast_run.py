from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from forecasts.models import RunSource
from forecasts.policy import DEFAULT_SERVICE_LEVEL
from forecasts.selectors import to_order
from forecasts.services import forecast_run


def _level(text: str) -> Decimal:
    try:
        level = Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--service-level {text!r} is not a number.") from None
    if not Decimal("0.5") <= level < 1:
        raise CommandError("--service-level must be at least 0.5 and below 1 (0.95 for 95%).")
    return level


class Command(BaseCommand):
    help = (
        "Forecast every product at every warehouse now, as the nightly task does, and store the run; prints the "
        "run and what to order today, most urgent first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--service-level", default=str(DEFAULT_SERVICE_LEVEL), help="Default 0.95.")
        parser.add_argument("--today", type=date.fromisoformat, help="The day to plan for (default today): weeks before its week count.")

    def handle(self, *args, service_level: str, today: date | None, **options):
        run = forecast_run(source=RunSource.COMMAND, today=today, service_level=_level(service_level))
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(f"Run {run.pk} for {run.as_of} (history before {run.cutoff}): {run.forecasts} of {run.series} "
                          f"product-warehouses forecast, {run.to_order} to order, in {seconds:.1f} s.")
        for line in to_order(run=run)[:20]:
            self.stdout.write(f"  {line.product.sku} at {line.warehouse.code}: order {line.suggested_quantity} "
                              f"(on hand {line.on_hand}, reorder point {line.reorder_point}, out by {line.stockout_on or '-'})")
