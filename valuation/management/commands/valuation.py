"""``manage.py valuation catch-up|rebuild|verify``: the valuation's machinery by hand."""
from django.core.management.base import BaseCommand, CommandError

from valuation.selectors import valuation_verify
from valuation.services import valuation_catch_up, valuation_rebuild


class Command(BaseCommand):
    help = "Catch the valuation up with the ledger, rebuild it from the first event, or verify it against a replay."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["catch-up", "rebuild", "verify"])

    def handle(self, *args, action, **options):
        if action == "catch-up":
            self.stdout.write(f"applied {valuation_catch_up()} events")
        elif action == "rebuild":
            self.stdout.write(f"replayed {valuation_rebuild()} events")
        else:
            result = valuation_verify()
            if result.differences:
                raise CommandError(f"{len(result.differences)} differences at position {result.position}: {result.differences[:20]}")
            self.stdout.write(f"{result.products} products verified at position {result.position}: equal to a replay")
