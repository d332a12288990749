"""ESP tracking webhooks (django-anymail): bounces, complaints and unsubscribes from the provider.

Anymail parses each ESP's format and authenticates the request with HTTP basic auth
(ANYMAIL_WEBHOOK_SECRET); this turns its normalised events into MailEvents. The URLs are mounted
only when the secret is set (config/urls.py), so there is never an unauthenticated endpoint.
"""

from __future__ import annotations

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver

from .models import EmailStatus, MailEventKind, OutgoingEmail
from .services import mail_event_record

KINDS = {"bounced": MailEventKind.BOUNCED, "complained": MailEventKind.COMPLAINED,
         "unsubscribed": MailEventKind.UNSUBSCRIBED}  # fmt: skip
# A "rejected" event is the ESP refusing to send; these reasons say the address itself is the problem.
REJECTED = {"bounced": MailEventKind.BOUNCED, "invalid": MailEventKind.BOUNCED,
            "unsubscribed": MailEventKind.UNSUBSCRIBED}  # fmt: skip


def kind_of(event: AnymailTrackingEvent) -> str | None:
    if event.event_type == "rejected":
        return REJECTED.get(event.reject_reason or "")
    return KINDS.get(event.event_type)


@receiver(tracking, dispatch_uid="rebound-tracking")
def handle_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    kind = kind_of(event)
    if kind is None or not event.recipient:
        return  # delivered, opened, clicked …: nothing to act on
    email = None
    if event.message_id:
        email = OutgoingEmail.objects.filter(provider_message_id=str(event.message_id)[:255]).first()
    if email is None:  # an ESP that does not echo our message: the latest mail to that address
        email = (
            OutgoingEmail.objects.filter(to__iexact=event.recipient, status=EmailStatus.SENT)
            .order_by("-sent_at")
            .first()
        )
    mail_event_record(
        kind=kind,
        recipient=event.recipient,
        source=esp_name,
        detail=event.mta_response or event.description or "",
        email=email,
        event_id=f"{esp_name}:{event.event_id}" if event.event_id else None,
        occurred_at=event.timestamp,
    )
