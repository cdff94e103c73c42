"""``manage.py finance_export REPORT FILE [--param name=value ...]``: a finance report written to a
CSV or XLSX file (by the file's extension), as an export job's worker writes it."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from reports.exports import export_write
from reports.finance import REPORTS
from reports.finance_files import WRITERS


class Command(BaseCommand):
    help = "Write a finance report (valuation, flows, turnover, slow) to a .csv or .xlsx file."

    def add_arguments(self, parser):
        parser.add_argument("report", choices=REPORTS)
        parser.add_argument("path", help="The file to write; .csv or .xlsx says the format.")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help="A query parameter of the report, as its API takes it (e.g. as_of=2026-10-31); repeatable.")

    def handle(self, *args, report, path, param, **options):
        target = Path(path)
        format = target.suffix.lstrip(".").lower()
        if format not in WRITERS:
            raise CommandError(f"{path}: the file must end in .csv or .xlsx")
        parameters = {}
        for item in param:
            name, equals, value = item.partition("=")
            if not equals:
                raise CommandError(f"--param {item!r}: write NAME=VALUE")
            parameters[name] = value

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"{done}/{total} lines")

        try:
            with target.open("wb") as out:
                made = export_write(report=report, format=format, parameters=parameters, out=out, progress=progress)
        except ValidationError as error:
            target.unlink(missing_ok=True)
            raise CommandError(f"bad parameters: {error.detail}") from error
        self.stdout.write(f"{target}: {len(made.lines)} lines and the total")
