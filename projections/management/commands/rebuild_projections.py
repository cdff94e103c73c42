from django.core.management.base import BaseCommand

from projections.services import projections_rebuild


class Command(BaseCommand):
    help = "Rebuild every stock projection from the first ledger event, in bulk."

    def handle(self, *args, **options):
        for name, events in projections_rebuild().items():
            self.stdout.write(f"{name}: rebuilt from {events} events")
