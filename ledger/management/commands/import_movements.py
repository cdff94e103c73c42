from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ledger.csv_import import ImportRefused, movements_import


class Command(BaseCommand):
    help = "Post movements from a CSV file with the API's rules; every bad row is reported. See ledger/csv_import.py."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--user", required=True, help="Username the movements are posted as (needs the posting permission).")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--commit-every-batch", action="store_true",
            help="Commit each batch instead of the whole file at once (for very large files; rerun to resume).",
        )

    def handle(self, path, user, batch_size, commit_every_batch, **options):
        try:
            poster = get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user {user!r}.") from None
        if not poster.has_perm("ledger.add_movement"):
            raise CommandError(f"User {user!r} may not post movements (needs the clerk role).")
        try:
            result = movements_import(user=poster, path=path, batch_size=batch_size, commit_every_batch=commit_every_batch)
        except FileNotFoundError:
            raise CommandError(f"No file {path!r}.") from None
        except ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(str(error))
            raise CommandError(str(refused)) from None
        self.stdout.write(f"{result.rows} rows: {result.posted} posted, {result.replayed} already in the ledger.")
