from django.core.management.base import BaseCommand

from customers.services import tick as customers_tick
from followups.services import tick as followups_tick
from outbox.services import emails_send_due
from surveys.services import tick


class Command(BaseCommand):
    help = "Run one scheduler tick in the foreground, sends included: no worker needed (cron, debugging)."

    def handle(self, *args, **options) -> None:
        from config.celery import app

        # Work the ticks would queue runs here, in this process, instead of on a worker.
        app.conf.task_always_eager = True
        result = tick()
        followups = followups_tick()
        imports = customers_tick()
        sent = emails_send_due(seconds=600)
        self.stdout.write(
            f"{result['waves']} waves started, {result['prepared']} invitations prepared, "
            f"{result['reminders']} reminders queued, {result['recovered']} emails taken back from a stopped sender; "
            f"{sent['sent']} emails sent, {sent['retrying']} to retry, {sent['failed']} failed, "
            f"{sent['waiting']} waiting for the mail server; "
            f"{followups['escalated']} tasks escalated, {followups['digests']} digests sent; "
            f"{imports['requeued']} interrupted imports restarted."
        )
