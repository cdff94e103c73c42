import sys

from django.core.management.base import BaseCommand, CommandError

from ledger.export import export_lines
from ledger.selectors import head_position


class Command(BaseCommand):
    help = (
        "Write the ledger as JSON lines (a header, then every event with its hash) for auditors; "
        "verifier/verify_export.py checks it with the standard library alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--after", type=int, default=0, help="export the events after this position")
        parser.add_argument("--upto", type=int, help="up to this position (default: the head)")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, after: int = 0, upto: int | None = None, output: str | None = None, **options):
        head = head_position()
        upto = head if upto is None else upto
        if not 0 <= after <= upto <= head:
            raise CommandError(f"Give 0 <= --after <= --upto <= the head ({head}); got {after} and {upto}.")
        stream = open(output, "w", encoding="utf-8") if output else sys.stdout
        try:
            stream.writelines(export_lines(after=after, upto=upto))
        finally:
            if output:
                stream.close()
