from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from customers.importing import FileRefused, iter_report
from surveys.history import import_file


class Command(BaseCommand):
    help = (
        "Import survey history from Delighted's export (its API JSON, or its CSV). Answers keep their dates, "
        "open no tasks, and are imported once however often the file is run; unsubscribes and bounces are "
        "honoured. Bad items are reported and skipped; the good ones are kept. Formats: docs/samples/."
    )
    kind = "delighted"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--stream", choices=["relationship", "transactional"], default="relationship")

    def handle(self, *args, path: Path, stream: str, **options) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            result = import_file(
                kind=self.kind,
                data=data,
                stream=stream,
                progress=lambda done, total: self.stderr.write(f"\r{done}/{total} responses", ending=""),
            )
        except FileRefused as exc:
            raise CommandError(f"{path.name} was refused and nothing was imported: {exc}") from None
        self.stderr.write("")
        for line in iter_report(result):
            self.stdout.write(line)
