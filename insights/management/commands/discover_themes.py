from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from insights.discovery import discovery_run, discovery_start
from surveys.models import Stream


class Command(BaseCommand):
    help = (
        "Find candidate themes in a stream's verbatims, in the foreground, and print them (the Themes page "
        "lists them to accept, merge or dismiss). Runs on this machine's CPU; no text leaves it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stream", choices=Stream.values, default=Stream.RELATIONSHIP)
        parser.add_argument("--days", type=int, default=365, help="The last N days (default 365).")

    def handle(self, *args, stream: str, days: int, **options) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1.")
        tomorrow = timezone.localdate() + timedelta(days=1)
        end = datetime.combine(tomorrow, time(0), tzinfo=timezone.get_current_timezone())
        job = discovery_start(stream=stream, start=end - timedelta(days=days), end=end, trigger="command",
                              dispatch=False)  # fmt: skip
        if job is None:
            raise CommandError(f"A discovery of the {stream} stream is running already.")
        job = discovery_run(job.pk)
        if job.status != "done":
            raise CommandError(f"Discovery failed: {job.message}")
        self.stdout.write(f"{job.verbatims} verbatims, {job.suggestions.count()} candidate themes ({job.backend}).")
        if job.message:
            self.stdout.write(job.message)
        for s in job.suggestions.all():
            overlap = f"  overlaps {s.overlap['name']} ({s.overlap['share']:.0%})" if s.overlap else ""
            self.stdout.write(
                f"- {s.name}: {s.size} verbatims, {s.detractor_share:.0%} detractors, "
                f"{s.promoter_share:.0%} promoters; words: {', '.join(s.terms)}{overlap}"
            )
            for example in s.examples[:3]:
                self.stdout.write(f"    {example['score']:>2}  {example['text'][:100]}")
