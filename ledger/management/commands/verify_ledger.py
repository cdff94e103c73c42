from django.core.management.base import BaseCommand, CommandError

from ledger.verification import ledger_verify


class Command(BaseCommand):
    help = "Walk the ledger's hash chain: 'intact, N events, head hash H' or the first broken position."

    def handle(self, *args, **options):
        report = ledger_verify()
        if not report.intact:
            raise CommandError(str(report))
        self.stdout.write(str(report))
