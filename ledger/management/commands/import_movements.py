from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ledger.csv_import import ImportRefused, movements_import

DEFAULT_BATCH_SIZE = 1000


class Command(BaseCommand):
    help = (
        "Post movements from a CSV file with the API's rules, the whole file or nothing; every bad row is "
        "reported with its line. Rerun the same file to resume after a failure. See ledger/csv_import.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--user", required=True, help="Username the movements are posted as (needs the posting permission).")
        parser.add_argument(
            "--import-id", metavar="NAME",
            help="Name the rows' keys are built from (default: the file's base name). Keep it the same "
                 "when rerunning a file to resume; give two files of identical rows different names.",
        )
        parser.add_argument(
            "--commit-every-batch", action="store_true",
            help="Commit each batch of --batch-size rows on its own instead of the whole file at once "
                 "(for very large files; a refusal keeps the batches before it: fix the row and rerun to resume).",
        )
        parser.add_argument(
            "--batch-size", type=int, metavar="N",
            help=f"Rows per committed batch with --commit-every-batch (default {DEFAULT_BATCH_SIZE}); "
                 "without it the whole file is posted at once and this is ignored.",
        )

    def handle(self, path, user, import_id, commit_every_batch, batch_size, **options):
        try:
            poster = get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user {user!r}.") from None
        if not poster.has_perm("ledger.add_movement"):
            raise CommandError(f"User {user!r} may not post movements (needs the clerk role).")
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if batch_size is not None and not commit_every_batch:
            self.stderr.write("--batch-size is ignored without --commit-every-batch: the whole file is posted at once.")
        try:
            result = movements_import(
                user=poster, path=path, import_id=import_id,
                batch_size=batch_size or DEFAULT_BATCH_SIZE, commit_every_batch=commit_every_batch,
            )
        except ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(str(error))
            raise CommandError(str(refused)) from None
        self.stdout.write(f"{result.rows} rows: {result.posted} posted, {result.replayed} already in the ledger.")
