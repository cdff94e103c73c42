import argparse

from django.core.management.base import BaseCommand, CommandError

from ledger.verification import SavedHead, chain_check


def _saved_head(text: str) -> SavedHead:
    try:
        return SavedHead.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Walk the ledger's hash chain over every row: 'intact, N events, head hash H' or the first broken "
        "position (exit 1). With --expect POSITION:HASH (a head saved earlier from ledger/head/), also say "
        "whether today's ledger extends it (exit 1 if not)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect", type=_saved_head, metavar="POSITION:HASH",
            help="A head saved earlier (GET ledger/head/): prove the chain verifies through POSITION and the "
            "event there carries HASH.",
        )

    def handle(self, *args, expect: SavedHead | None = None, **options):
        report = chain_check(expect=expect)
        extended = report.expected_head is None or report.expected_head.extends
        if not (report.intact and extended):
            raise CommandError(str(report))
        self.stdout.write(str(report))
