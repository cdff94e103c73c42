from django.core.management.base import BaseCommand, CommandError

from projections.selectors import projections_verify

SHOWN = 20


class Command(BaseCommand):
    help = "Compare every projection with a fresh replay of the ledger; report any difference."

    def handle(self, *args, **options):
        differing = 0
        for result in projections_verify():
            if not result.differences:
                self.stdout.write(f"{result.name}: matches the ledger ({result.rows} rows at position {result.position})")
                continue
            differing += 1
            self.stderr.write(f"{result.name}: {len(result.differences)} rows differ at position {result.position}")
            for difference in result.differences[:SHOWN]:
                self.stderr.write(f"  {difference.key}: stored {difference.stored}, ledger says {difference.replayed}")
        if differing:
            raise CommandError(f"{differing} projection(s) differ from the ledger")
