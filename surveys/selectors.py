"""Reads for surveys: who may be asked, and how a wave is going."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from customers.models import AccountStatus, Contact
from outbox.models import EmailStatus, MailEvent, MailEventKind, OutgoingEmail

from .models import Invitation, Program, SkipReason


def audience_q(program: Program) -> Q:
    q = Q()
    if program.audience_segments:
        q &= Q(account__segment__in=program.audience_segments)
    if program.audience_plan_tiers:
        q &= Q(account__plan_tier__in=program.audience_plan_tiers)
    if program.audience_regions:
        q &= Q(account__region__in=program.audience_regions)
    if program.audience_product_lines:
        q &= Q(account__product_line__in=program.audience_product_lines)
    if program.decision_makers_only:
        q &= Q(decision_maker=True)
    return q


def in_quiet_period(now: datetime):
    """Exists(...) for a contact with any invitation, of either stream, whose quiet period runs on."""
    return Exists(Invitation.objects.filter(contact=OuterRef("pk"), quiet_until__gt=now, skipped_reason=""))


def skip_conditions(program: Program, now: datetime) -> list[tuple[str, Q]]:
    """Why a contact is left out, in the order the reasons are counted (first match wins)."""
    conditions = []
    if not program.audience_include_churned:
        conditions.append((SkipReason.ACCOUNT_CHURNED, ~Q(account__status=AccountStatus.ACTIVE)))
    conditions += [
        (SkipReason.UNSUBSCRIBED, Q(unsubscribed_at__isnull=False)),
        (SkipReason.BOUNCED, Q(bounced_at__isnull=False)),
    ]
    audience = audience_q(program)
    if audience:  # an empty audience means everyone; ~Q() would not
        conditions.append((SkipReason.OUTSIDE_AUDIENCE, ~audience))
    conditions.append((SkipReason.QUIET_PERIOD, Q(_quiet=True)))  # last: eligibility counts it on its own
    return conditions


def eligibility(program: Program, now: datetime) -> tuple[QuerySet[Contact], dict[str, int]]:
    """Contacts the program may ask now, and the others counted by reason — in one query each."""
    # alias, not annotate: the quiet-period test filters, it is never a selected column. Selected, it
    # ran once per row of the wave's cursor, and inside the wave's transaction every invitation the
    # wave had inserted so far (invisible to the cursor, still in the index) was visited again for
    # each contact: a million-contact wave never finished its first query.
    contacts = Contact.objects.filter(account__is_test=False).alias(_quiet=in_quiet_period(now))
    *columns, (quiet_reason, quiet) = skip_conditions(program, now)
    counts, excluded = {}, Q()
    for reason, condition in columns:
        counts[reason] = Count("pk", filter=condition & ~excluded) if excluded else Count("pk", filter=condition)
        excluded |= condition
    skipped = contacts.aggregate(**counts) if counts else {}
    # One NOT per condition rather than NOT (a OR b OR …): the quiet-period test then stands alone at
    # the top of the WHERE, where PostgreSQL turns NOT EXISTS into an anti-join (and, below, EXISTS
    # into a semi-join) that reads the invitations once. Inside a count's FILTER it would be a
    # subquery per contact, planned on the invitations' statistics: when they said "empty" (a wave
    # right after a bulk load), each subquery scanned the invitations and a 100,000-contact wave's
    # first count ran for minutes.
    rest = contacts
    for _reason, condition in columns:
        rest = rest.exclude(condition)
    skipped[quiet_reason] = rest.filter(quiet).count()
    eligible = rest.exclude(quiet)
    return eligible, {reason: n for reason, n in skipped.items() if n}


def contact_skip_reason(program: Program, contact: Contact, now: datetime) -> str:
    """The first reason this contact may not be asked by this program now, or ''."""
    annotated = Contact.objects.filter(pk=contact.pk).alias(_quiet=in_quiet_period(now))
    for reason, condition in skip_conditions(program, now):
        if annotated.filter(condition).exists():
            return reason
    if program.cap_per_contact:
        recent = Invitation.objects.filter(
            program=program,
            contact=contact,
            skipped_reason="",
            send_at__gt=now - timedelta(days=program.cap_window_days),
        ).count()
        if recent >= program.cap_per_contact:
            return SkipReason.CAP_REACHED
    return ""


def wave_progress(wave) -> dict[str, int]:
    """Eligible, skipped, scheduled, queued, sending, sent and failed counts for a wave."""
    totals = wave.invitations.aggregate(
        invited=Count("pk", filter=Q(skipped_reason="")),
        skipped_at_send=Count("pk", filter=~Q(skipped_reason="")),
        scheduled=Count("pk", filter=Q(email__isnull=True, skipped_reason="")),
        queued=Count("pk", filter=Q(email__status=EmailStatus.QUEUED)),
        sending=Count("pk", filter=Q(email__status=EmailStatus.SENDING)),
        sent=Count("pk", filter=Q(email__status=EmailStatus.SENT)),
        failed=Count("pk", filter=Q(email__status=EmailStatus.FAILED)),
        reminded=Count("pk", filter=Q(reminder_email__status=EmailStatus.SENT)),
        responded=Count("pk", filter=Q(responded_at__isnull=False)),
    )
    totals["eligible"] = wave.eligible_count
    totals["skipped"] = sum(wave.skipped.values())
    return totals


# Gmail's and Yahoo's bulk-sender rules: keep spam complaints under 0.1 %, never reach 0.3 %.
COMPLAINT_RATE_TARGET = 0.001
COMPLAINT_RATE_LIMIT = 0.003


def program_deliverability(program, now, days: int = 90) -> dict:
    """Sent, bounced and complained survey emails of a program over the last `days`, with rates."""
    since = now - timedelta(days=days)
    mine = Q(invitation__program=program) | Q(reminded_invitation__program=program)
    sent = OutgoingEmail.objects.filter(mine, status=EmailStatus.SENT, sent_at__gte=since).count()
    events = MailEvent.objects.filter(occurred_at__gte=since).filter(
        Q(email__invitation__program=program) | Q(email__reminded_invitation__program=program)
    )
    counts = events.aggregate(
        bounced=Count("pk", filter=Q(kind=MailEventKind.BOUNCED)),
        complained=Count("pk", filter=Q(kind=MailEventKind.COMPLAINED)),
    )
    complaint_rate = counts["complained"] / sent if sent else 0.0
    if complaint_rate >= COMPLAINT_RATE_LIMIT:
        level = "danger"
    elif complaint_rate >= COMPLAINT_RATE_TARGET:
        level = "warning"
    else:
        level = "ok"
    return {
        "days": days,
        "sent": sent,
        **counts,
        "bounce_percent": 100 * counts["bounced"] / sent if sent else 0.0,
        "complaint_percent": 100 * complaint_rate,
        "level": level,
    }


def wave_schedule(wave, zone) -> list[dict]:
    """How many of the wave's invitations go out on each day (in `zone`), and how many still wait."""
    from django.db.models.functions import TruncDate

    return list(
        wave.invitations.filter(skipped_reason="")
        .annotate(day=TruncDate("send_at", tzinfo=zone))
        .values("day")
        .annotate(invitations=Count("pk"), waiting=Count("pk", filter=Q(email__isnull=True)))
        .order_by("day")
    )
