import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.portability import write_export


class Command(BaseCommand):
    help = (
        "Write everything Rebound holds (accounts, contacts, programs, waves, invitations, emails sent, responses, "
        "themes, referrals, tasks with notes and timelines, unsubscribes, staff, settings, audit trail) to one zip "
        "of JSON lines and CSV, read in one consistent snapshot. `restore_all` reads it into an empty instance."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "-o", "--output", type=Path, help="The zip to write (default: rebound-export-<date>.zip here)."
        )

    def handle(self, *args, output: Path | None, **options) -> None:
        output = output or Path(f"rebound-export-{timezone.now():%Y%m%d-%H%M%S}.zip")
        if output.exists():
            raise CommandError(f"{output} exists; name another file with --output.")
        shown = -1

        def progress(done: int, total: int) -> None:
            nonlocal shown
            percent = int(100 * done / total) if total else 100
            if percent != shown and sys.stderr.isatty():
                shown = percent
                self.stderr.write(f"\r{done:,} of {total:,} rows ({percent} %)", ending="")

        try:
            with output.open("xb") as handle:
                manifest = write_export(handle, progress=progress)
        except BaseException:
            output.unlink(missing_ok=True)  # never leave half a zip that looks like an export
            raise
        if sys.stderr.isatty():
            self.stderr.write("")
        rows = sum(manifest["counts"].values())
        self.stdout.write(self.style.SUCCESS(f"Wrote {output} ({output.stat().st_size:,} bytes, {rows:,} rows)."))
        for stream, figures in manifest["nps"].items():
            if figures["responses"]:
                self.stdout.write(f"  {stream}: {figures['responses']:,} responses, NPS {figures['nps']}")
