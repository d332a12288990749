from pathlib import Path

from django.core.management.base import BaseCommand

from customers.importing import run_from_command
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
        run_from_command(self, path, lambda **kw: import_file(kind=self.kind, stream=stream, **kw))
