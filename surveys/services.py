"""Writes for surveys: waves, invitations from events, the sends a tick prepares, unsubscribes.

Every invitation — waves, events, re-asks after a recovery, previews and test sends — is made from
``invitation_fields``; every path that asks a contact goes through it and the eligibility rules in
``selectors``; every email goes through the outbox with a unique key, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from config.db import ANALYZE_AFTER_ROWS, analyze, analyze_after_bulk_write
from customers.models import Account, Contact
from customers.services import contacts_unsubscribe
from outbox.models import EmailStatus, OutgoingEmail
from outbox.services import emails_queue, emails_tick, emails_wake

from . import cadence, windows
from .answers import responses_route_pending
from .emails import SurveyMailer, survey_email
from .models import (
    Event,
    Invitation,
    Program,
    SkipReason,
    Stream,
    Wave,
)
from .selectors import contact_skip_reason, eligibility
from .throttle import Throttle, defer

logger = logging.getLogger(__name__)

PREPARE_CHUNK = 1000


def in_window(program: Program, contact: Contact, at: datetime) -> datetime:
    """`at`, or the next moment inside the program's send window in the contact's time zone."""
    return windows.next_window(program, windows.contact_zone(program, contact), at)


def invitation_fields(program: Program, contact: Contact, send_at: datetime) -> dict[str, Any]:
    return {
        "program": program,
        "stream": program.stream,
        "contact": contact,
        "account_id": contact.account_id,
        "send_at": send_at,
        "expires_at": send_at + timedelta(days=program.link_expiry_days),
        "quiet_until": send_at + timedelta(days=program.quiet_period_days),
        **Invitation.new_token_fields(),
    }


# Waves -----------------------------------------------------------------------------------------


def wave_create(
    *, program: Program, period: str, scheduled_at: datetime, started_by=None, now: datetime | None = None
) -> Wave | None:
    """Create a program's wave for a period and invite every eligible contact, in bulk.

    Returns None when the period already has a wave (the database constraint decides, so two
    ticks or two beat processes at once create one wave). Without a send window, spread or daily cap
    the invitations are due at `now`, so the tick that creates a wave also sends it; otherwise each is
    placed in its recipient's window (surveys.windows.WavePlan).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            wave = Wave.objects.create(program=program, period=period, scheduled_at=scheduled_at, started_by=started_by)
            eligible, skipped = eligibility(program, now)
            plan = windows.WavePlan(program, eligible.count(), max(scheduled_at, now))
            contacts = eligible.select_related("account").only("pk", "account_id", "timezone", "account__region")
            invitations = (
                Invitation(wave=wave, **invitation_fields(program, contact, plan.send_at(index, program, contact)))
                for index, contact in enumerate(contacts.order_by("pk").iterator(chunk_size=2000))
            )
            created = 0
            batch: list[Invitation] = []
            for invitation in invitations:
                batch.append(invitation)
                if len(batch) >= 2000:
                    created += len(Invitation.objects.bulk_create(batch, ignore_conflicts=True))
                    batch = []
            if batch:
                created += len(Invitation.objects.bulk_create(batch, ignore_conflicts=True))
            wave.eligible_count, wave.skipped = created, skipped
            wave.save(update_fields=["eligible_count", "skipped"])
    except IntegrityError:
        return None
    analyze_after_bulk_write(Invitation, rows=created)  # the tick's next query plans on these rows
    logger.info("Wave %s: %s invited, skipped %s", wave, created, skipped)
    return wave


def waves_create_due(now: datetime | None = None) -> list[Wave]:
    """Create the wave of every active relationship program whose period's time has come."""
    now = now or timezone.now()
    waves = []
    for program in Program.objects.filter(stream=Stream.RELATIONSHIP, is_active=True):
        due = cadence.due_period(program, now)
        if due is None:
            continue
        wave = wave_create(program=program, period=due[0], scheduled_at=due[1], now=now)
        if wave:
            waves.append(wave)
    return waves


def wave_send_now(*, program: Program, user) -> Wave | None:
    """Start the current period's wave at once (an Admin's "Send now"). None if it exists already.
    A tick is asked for after the commit, so the invitations go out now rather than at the next beat."""
    from config.queueing import enqueue_on_commit

    from .tasks import tick as tick_task

    period, _ = cadence.current_period(program)
    wave = wave_create(program=program, period=period, scheduled_at=timezone.now(), started_by=user)
    if wave is not None:
        enqueue_on_commit(tick_task)
    return wave


# Transactional events ---------------------------------------------------------------------------


@dataclass
class EventOutcome:
    status: str  # "scheduled" or "skipped"
    reason: str = ""
    invitation: Invitation | None = None
    event: Event | None = None


def program_for_event(event_type: str) -> Program | None:
    # Programs are few; matching in Python keeps this portable across databases.
    for program in Program.objects.filter(stream=Stream.TRANSACTIONAL).order_by("-is_active", "pk"):
        if event_type in program.event_types:
            return program
    return None


def event_record(
    *,
    type: str,  # noqa: A002 - the API's field name
    contact_email: str,
    contact_name: str = "",
    account_external_id: str,
    account_name: str = "",
    occurred_at: datetime,
    properties: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    delay_minutes: int | None = None,
) -> EventOutcome:
    """Record an event from another system and schedule its transactional survey if allowed.

    Safe under concurrency: two events for the same new contact create one contact (and one
    account) and both invitations; only a repeated idempotency key is a duplicate.
    """
    now = timezone.now()
    properties = properties or {}
    if idempotency_key and Event.objects.filter(idempotency_key=idempotency_key).exists():
        return EventOutcome("skipped", SkipReason.DUPLICATE)
    account = _get_or_create(
        Account.objects.filter(external_id=account_external_id),
        lambda: Account(external_id=account_external_id, name=account_name or account_external_id),
    )
    contact = _get_or_create(
        Contact.objects.filter(email__iexact=contact_email.strip()),
        lambda: Contact(account=account, email=contact_email, name=contact_name),
    )
    try:
        with transaction.atomic():
            # Events for one contact take turns, so the second sees the first's invitation and the
            # quiet period and cap hold under concurrency too.
            Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk").first()
            now = timezone.now()  # after the wait: the other event's invitation is visible as of now
            event = Event.objects.create(
                type=type,
                contact=contact,
                account=contact.account,
                occurred_at=occurred_at,
                properties=properties,
                idempotency_key=idempotency_key or None,
                outcome="skipped",
            )
            program = program_for_event(type)
            if program is None:
                reason = SkipReason.NO_PROGRAM
            elif not program.is_active:
                reason = SkipReason.PROGRAM_PAUSED
            else:
                reason = contact_skip_reason(program, contact, now)
            if reason:
                event.skip_reason = reason
                event.save(update_fields=["skip_reason"])
                return EventOutcome("skipped", reason, event=event)
            delay = program.delay_minutes if delay_minutes is None else delay_minutes
            send_at = in_window(program, contact, max(occurred_at + timedelta(minutes=delay), now))
            invitation = Invitation.objects.create(
                event=event, properties=properties, **invitation_fields(program, contact, send_at)
            )
            event.outcome = "scheduled"
            event.save(update_fields=["outcome"])
    except IntegrityError:
        if idempotency_key and Event.objects.filter(idempotency_key=idempotency_key).exists():
            # The same idempotency key posted twice at once: the other request recorded it.
            return EventOutcome("skipped", SkipReason.DUPLICATE)
        raise  # any other conflict is a real error, not a duplicate
    return EventOutcome("scheduled", invitation=invitation, event=event)


def _get_or_create(existing, build):
    """The row `existing` finds, or a new one from `build()`. When another request inserts the same
    row at the same moment, the unique constraint refuses ours and theirs is returned."""
    found = existing.first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            row = build()
            row.save(force_insert=True)
            return row
    except IntegrityError:
        found = existing.first()
        if found is None:
            raise
        return found


# Sending ---------------------------------------------------------------------------------------


def invitations_prepare_due(now: datetime | None = None) -> int:
    """Render the email of every invitation whose send time has come and queue it in the outbox.

    Rows are locked with SKIP LOCKED, so two ticks at once split the work instead of doubling it;
    the outbox's unique key is the final guard. A contact who unsubscribed or bounced since the
    invitation was made, or a paused program, is skipped here.
    """
    now = now or timezone.now()
    mailer = SurveyMailer()
    caps = Throttle(now)
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Invitation.objects.due(now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("program", "contact__account")
                .order_by("send_at", "pk")[:PREPARE_CHUNK]
            )
            if not due:
                return total
            sendable, skipped, deferred = [], [], []
            for invitation in due:
                reason = _skip_at_send(invitation, now)
                if reason:
                    invitation.skipped_reason = reason
                    skipped.append(invitation)
                elif until := caps.defer_until(invitation):
                    defer(invitation, until)  # over a cap: later, never dropped
                    deferred.append(invitation)
                else:
                    sendable.append(invitation)
            Invitation.objects.bulk_update(skipped, ["skipped_reason"])
            Invitation.objects.bulk_update(deferred, ["send_at", "expires_at", "quiet_until"])
            emails_queue([mailer.build(i, bodies=False) for i in sendable], fetch=False)
            _link_emails(sendable, "email", "survey")
            total += len(due)
        if total - len(due) < ANALYZE_AFTER_ROWS <= total:
            # Once per large batch, in the chunk that crosses the threshold: the senders' claim query
            # plans on the outbox's new size, not on the statistics of an empty queue (a sort of the
            # whole queue for every claim of 100).
            analyze(OutgoingEmail, Invitation)
        if sendable:
            emails_wake(settings.OUTBOX_SENDERS)  # sending starts while the next chunk is prepared


def _link_emails(invitations: list[Invitation], field: str, kind: str) -> None:
    """Point each invitation at its outbox row ("<kind>:<invitation id>"), in one UPDATE."""
    if invitations:
        row = OutgoingEmail.objects.filter(key=Concat(Value(f"{kind}:"), Cast(OuterRef("pk"), CharField())))
        Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(**{field: Subquery(row.values("pk")[:1])})


def _skip_at_send(invitation: Invitation, now: datetime) -> str:
    contact, program = invitation.contact, invitation.program
    if not program.is_active:
        return SkipReason.PROGRAM_PAUSED
    if contact.unsubscribed_at:
        return SkipReason.UNSUBSCRIBED
    if contact.bounced_at:
        return SkipReason.BOUNCED
    if now >= invitation.expires_at:
        return "expired"
    return ""


def reminders_queue(now: datetime | None = None) -> int:
    """Queue the one reminder of each unanswered, delivered invitation whose reminder time has come.

    Never after expiry, never twice (the outbox key and the one-to-one link), never to a contact
    who unsubscribed or bounced, never for a paused program or one with reminders off.
    """
    now = now or timezone.now()
    mailer = SurveyMailer()
    total = 0
    for program in Program.objects.filter(is_active=True, reminder_enabled=True):
        while True:
            with transaction.atomic():
                due = list(
                    Invitation.objects.filter(
                        program=program,
                        email__status=EmailStatus.SENT,
                        email__sent_at__lte=now - timedelta(days=program.reminder_after_days),
                        reminder_email__isnull=True,
                        responded_at__isnull=True,
                        expires_at__gt=now,
                        contact__unsubscribed_at__isnull=True,
                        contact__bounced_at__isnull=True,
                    )
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("program", "contact")[:PREPARE_CHUNK]
                )
                if not due:
                    break
                emails_queue([mailer.build(i, reminder=True, bodies=False) for i in due], fetch=False)
                _link_emails(due, "reminder_email", "survey_reminder")
                total += len(due)
    return total


def tick(now: datetime | None = None) -> dict[str, int]:
    """One pass of the scheduler: due waves, due invitations, reminders, then the outbox."""
    now = now or timezone.now()
    waves = waves_create_due(now)
    prepared = invitations_prepare_due(now)
    reminders = reminders_queue(now)
    outbox = emails_tick(now)
    routed = responses_route_pending()  # answers a lost wake-up, a dead worker or a crash left
    return {"waves": len(waves), "prepared": prepared, "reminders": reminders, "routed": routed, **outbox}


# Customers' own actions ----------------------------------------------------------------------------


def contact_unsubscribe(*, contact: Contact) -> None:
    """Record a customer's own unsubscribe; no program mails this contact again."""
    if contact.unsubscribed_at is None:
        contacts_unsubscribe(Contact.objects.filter(pk=contact.pk))


TEST_ACCOUNT_EXTERNAL_ID = "rebound-test-sends"


def test_contact(user) -> Contact:
    """The staff member as a contact: the customer contact with their address if there is one, else one
    in the test-sends account (never listed, never in a wave), made reachable again for each test."""
    contact = Contact.objects.filter(email__iexact=user.email).first()
    if contact is None or contact.account.is_test:
        account, _ = Account.objects.get_or_create(
            external_id=TEST_ACCOUNT_EXTERNAL_ID, defaults={"name": "Test sends (staff)", "is_test": True}
        )
        contact, _ = Contact.objects.update_or_create(
            email=user.email,
            defaults={"account": account, "name": user.get_full_name(), "unsubscribed_at": None, "bounced_at": None},
        )
    return contact


def test_email_send(*, program: Program, user) -> OutgoingEmail:
    """Send the program's email to a staff member as a real test invitation: its links work end to end
    (answer, thank-you, the follow-up task, marked test), and its answer counts in no figure or export."""
    contact = test_contact(user)
    with transaction.atomic():
        invitation = Invitation.objects.create(is_test=True, **invitation_fields(program, contact, timezone.now()))
        row = survey_email(invitation, key=f"test:{invitation.pk}")
        row.subject = f"[Test] {row.subject}"
        row.kind = "survey_test"
        row.save()
        Invitation.objects.filter(pk=invitation.pk).update(email=row)
        emails_wake()
    return row


def preview_invitation(program: Program, *, email: str = "pat@example.com", name: str = "Pat Example") -> Invitation:
    """An unsaved invitation for previews: the email exactly as a customer will see it."""
    return Invitation(**invitation_fields(program, Contact(email=email, name=name, locale="en"), timezone.now()))
