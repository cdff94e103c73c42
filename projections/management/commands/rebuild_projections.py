from django.core.management.base import BaseCommand

from projections.services import projections_rebuild
from projections.tasks import rebuild_projections


class Command(BaseCommand):
    help = "Rebuild every stock projection from the first ledger event, in bulk."

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue", action="store_true",
            help="Queue the rebuild for a Celery worker instead of running it here (production: it runs "
            "beside the catch-ups, and this command returns at once).",
        )

    def handle(self, *args, queue=False, **options):
        if queue:
            result = rebuild_projections.delay()
            self.stdout.write(f"queued rebuild {result.id}")
            return
        for name, events in projections_rebuild().items():
            self.stdout.write(f"{name}: rebuilt from {events} events")
