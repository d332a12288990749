from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from customers.importing import FileRefused, import_customers, iter_report
from customers.models import ImportKind


class Command(BaseCommand):
    help = (
        "Import accounts or contacts from a CSV file (upsert by external_id / email). "
        "Bad rows are reported by line and skipped; the good rows are kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("path", type=Path)

    def handle(self, *args, kind: str, path: Path, **options) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            result = import_customers(
                kind=kind,
                data=data,
                progress=lambda done, total: self.stderr.write(f"\r{done}/{total} rows", ending=""),
            )
        except FileRefused as exc:
            raise CommandError(f"{path.name} was refused and nothing was imported: {exc}") from None
        self.stderr.write("")
        for line in iter_report(result):
            self.stdout.write(line)
