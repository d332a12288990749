from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.portability import RestoreRefused, restore


class Command(BaseCommand):
    help = (
        "Restore a zip written by `export_all` (or the Export page) into this instance, which must hold no data "
        "yet: run `manage.py migrate` first, and create no user before. Everything or nothing is restored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            result = restore(str(path))
        except RestoreRefused as exc:
            raise CommandError(f"Nothing was restored. {exc}") from None
        rows = sum(result.counts.values())
        self.stdout.write(self.style.SUCCESS(f"Restored {rows:,} rows from {path}."))
        for label, count in result.counts.items():
            if count:
                self.stdout.write(f"  {label:<28} {count:>10,}")
        if result.users:
            self.stdout.write(
                f"{result.users} staff accounts have no password yet (passwords are never exported): run "
                "`manage.py changepassword <admin email>` for an Admin, who then sets the others' on the Staff page."
            )
        if result.paused_webhooks:
            self.stdout.write(
                f"{result.paused_webhooks} webhook subscriptions are paused with a new secret: check each URL, give "
                "its receiver the new secret, then activate it."
            )
        if result.queued_emails:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.queued_emails} emails were waiting to be sent when the export was taken; this instance "
                    "sends them once its workers run. Restoring a copy for testing? Leave EMAIL_URL unset."
                )
            )
