"""Data protection: erase a contact on request, export what is held about one, and retention.

Erasing removes the person, not the history: name, email, title, properties and every text
they wrote (verbatims, referrals, event properties, mails to and about them, task notes) are
removed; scores, categories and the segment snapshots stay, so no NPS figure moves. The contact
row remains as "Erased contact #id", unsubscribed, so an old link or a retried event can never
reach anyone. Each erase and export is recorded in the audit trail (without the personal data).

Retention (DATA_RETENTION_MONTHS, run by the customers tick) anonymises verbatims older than the
limit and erases contacts with no survey activity since then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts import audit

from .models import Contact

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be delivered


def erased_email(contact: Contact) -> str:
    return f"erased-{contact.pk}@{ERASED_DOMAIN}"


@transaction.atomic
def contact_erase(contact: Contact, *, actor=None, reason: str = "request") -> Contact:
    """Remove the contact's personal data everywhere it was copied. Idempotent."""
    from followups.models import Task, TaskEvent
    from outbox.models import CaughtEmail, MailEvent, OutgoingEmail
    from surveys.models import Event, Invitation, Referral, Response

    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    old_email = contact.email
    now = timezone.now()
    responses = Response.objects.filter(contact=contact)
    Referral.objects.filter(response__in=responses).delete()
    responses.update(reason="", improvement="", agent="", updated_at=now)  # the rollups see the change
    tasks = Task.objects.filter(response__contact=contact)
    tasks.update(outcome_detail="")
    TaskEvent.objects.filter(task__in=tasks).update(text="", data={})
    Event.objects.filter(contact=contact).update(properties={})
    Invitation.objects.filter(contact=contact).update(properties={})
    task_ids = [str(pk) for pk in tasks.values_list("pk", flat=True)]
    if task_ids:  # staff notifications about their tasks quote them: blank those bodies too
        about = rf"^(task_assigned|task_escalated|close_the_loop):({'|'.join(task_ids)}):"
        OutgoingEmail.objects.filter(key__regex=about).exclude(to__iexact=old_email).update(
            subject="(erased)", body_text="", body_html=""
        )
    if old_email and not old_email.endswith(f"@{ERASED_DOMAIN}"):
        redacted = erased_email(contact)
        OutgoingEmail.objects.filter(to__iexact=old_email).update(
            to=redacted, subject="(erased)", body_text="", body_html="", headers={}, last_error=""
        )
        OutgoingEmail.objects.filter(body_text__icontains=old_email).update(
            subject="(erased)", body_text="", body_html=""
        )
        MailEvent.objects.filter(recipient__iexact=old_email).update(recipient=redacted, detail="")
        CaughtEmail.objects.filter(to__icontains=old_email).delete()
    contact.email = erased_email(contact)
    contact.name = contact.title = contact.external_id = contact.bounce_reason = ""
    contact.properties = {}
    contact.erased_at = contact.erased_at or now
    contact.unsubscribed_at = contact.unsubscribed_at or now
    contact.save()
    audit.record(actor, "contact.erase", contact, label=f"Contact #{contact.pk}", after={"reason": reason})
    return contact


def contact_export(contact: Contact, *, actor=None) -> dict[str, Any]:
    """Everything Rebound holds about one contact, as JSON-ready data (a subject access request)."""
    from followups.models import Task
    from outbox.models import MailEvent, OutgoingEmail
    from surveys.models import Event, Invitation, Referral, Response

    def rows(qs, fields):
        return [{f: audit.json_value(v) for f, v in row.items()} for row in qs.values(*fields)]

    data = {
        "exported_at": timezone.now().isoformat(),
        "contact": audit.snapshot(contact),
        "account": {"id": contact.account_id, "name": contact.account.name, "external_id": contact.account.external_id},
        "invitations": rows(
            Invitation.objects.filter(contact=contact).order_by("send_at"),
            [
                "id",
                "program__name",
                "stream",
                "send_at",
                "expires_at",
                "skipped_reason",
                "email__status",
                "email__sent_at",
            ],
        ),  # fmt: skip
        "responses": rows(
            Response.objects.filter(contact=contact).order_by("submitted_at"),
            [
                "id",
                "program__name",
                "stream",
                "score",
                "category",
                "reason",
                "improvement",
                "submitted_at",
                "updated_at",
                "language",
                "device_class",
                "segment",
                "plan_tier",
                "region",
            ],
        ),  # fmt: skip
        "referrals_made": rows(
            Referral.objects.filter(response__contact=contact), ["name", "email", "company", "note", "created_at"]
        ),
        "follow_up_tasks": rows(
            Task.objects.filter(response__contact=contact).order_by("created_at"),
            ["id", "queue", "status", "created_at", "first_contact_at", "closed_at", "outcome", "outcome_detail"],
        ),
        "events": rows(Event.objects.filter(contact=contact), ["type", "occurred_at", "properties", "outcome"]),
        "emails": rows(
            OutgoingEmail.objects.filter(to__iexact=contact.email).order_by("created_at"),
            ["kind", "subject", "status", "created_at", "sent_at"],
        ),
        "mail_events": rows(
            MailEvent.objects.filter(recipient__iexact=contact.email), ["kind", "source", "occurred_at", "detail"]
        ),
    }
    audit.record(actor, "contact.export", contact, label=f"Contact #{contact.pk}")
    return data


def retention_apply(now: datetime | None = None) -> dict[str, int]:
    """With DATA_RETENTION_MONTHS set: blank verbatims older than the limit and erase contacts
    whose last survey activity is older. Returns how many of each."""
    months = settings.DATA_RETENTION_MONTHS
    if not months:
        return {"anonymised_responses": 0, "erased_contacts": 0}
    from surveys.models import Referral, Response

    cutoff = (now or timezone.now()) - relativedelta(months=months)
    old = Response.objects.filter(submitted_at__lt=cutoff).exclude(reason="", improvement="", agent="")
    with transaction.atomic():
        Referral.objects.filter(response__submitted_at__lt=cutoff).delete()
        anonymised = old.update(reason="", improvement="", agent="", updated_at=timezone.now())
    stale = (
        Contact.objects.filter(erased_at__isnull=True, created_at__lt=cutoff)
        .annotate(last_sent=Max("invitations__send_at"), last_answer=Max("responses__submitted_at"))
        .filter(Q(last_sent__isnull=True) | Q(last_sent__lt=cutoff))
        .filter(Q(last_answer__isnull=True) | Q(last_answer__lt=cutoff))
    )
    erased = 0
    for contact in stale[:500]:
        contact_erase(contact, reason=f"retention {months} months")
        erased += 1
    if anonymised:
        audit.record(None, "retention.anonymise", label=f"{anonymised} verbatims older than {months} months")
    return {"anonymised_responses": anonymised, "erased_contacts": erased}
