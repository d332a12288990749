from django.core.management.base import BaseCommand

from followups.services import tick as followups_tick
from surveys.services import tick


class Command(BaseCommand):
    help = "Run one scheduler tick in the foreground, sends included: no worker needed (cron, debugging)."

    def handle(self, *args, **options) -> None:
        from config.celery import app

        # The sends the tick dispatches run here, in this process, instead of on a worker.
        app.conf.task_always_eager = True
        result = tick()
        followups = followups_tick()
        self.stdout.write(
            f"{result['waves']} waves started, {result['prepared']} invitations prepared, "
            f"{result['reminders']} reminders queued, {result['dispatched']} emails sent or attempted; "
            f"{followups['escalated']} tasks escalated, {followups['digests']} digests sent."
        )
