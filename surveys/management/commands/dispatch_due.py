from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django.utils import timezone

from accounts.services import tick as accounts_tick
from customers.services import tick as customers_tick
from followups.services import tick as followups_tick
from integrations.webhooks import deliver_due as webhooks_deliver_due
from outbox.models import EmailStatus, OutgoingEmail
from outbox.services import emails_send_due
from surveys.services import tick


class Command(BaseCommand):
    help = "Run one scheduler tick in the foreground, sends included: no worker needed (cron, debugging)."

    def handle(self, *args, **options) -> None:
        from config.celery import app

        # Work the ticks would queue for a worker (sends, imports) runs here, in this process.
        app.conf.task_always_eager = True
        started = timezone.now()
        result = tick()
        followups = followups_tick()
        imports = customers_tick()
        accounts = accounts_tick()
        emails_send_due(seconds=600)
        hooks = webhooks_deliver_due(seconds=600)
        mail = OutgoingEmail.objects.aggregate(
            sent=Count("pk", filter=Q(status=EmailStatus.SENT, sent_at__gte=started)),
            failed=Count("pk", filter=Q(status=EmailStatus.FAILED)),
            waiting=Count("pk", filter=Q(status=EmailStatus.QUEUED)),
        )
        self.stdout.write(
            f"{result['waves']} waves started, {result['prepared']} invitations prepared, "
            f"{result['reminders']} reminders queued, {result['recovered']} emails taken back from a stopped sender; "
            f"{mail['sent']} emails sent now, {mail['waiting']} waiting for a retry, {mail['failed']} failed in all; "
            f"{followups['escalated']} tasks escalated, {followups['digests']} digests sent; "
            f"{imports['requeued']} interrupted imports restarted; "
            f"{accounts['password_resets']} password reset requests worked; "
            f"{hooks['delivered']} webhooks delivered, {hooks['retrying']} to retry, {hooks['failed']} given up."
        )
