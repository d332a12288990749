from pathlib import Path

from django.core.management.base import BaseCommand

from customers.importing import import_customers, run_from_command
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
        run_from_command(self, path, lambda **kw: import_customers(kind=kind, **kw))
