"""Caps on sending that defer, never drop: per program per day, per recipient domain per hour, and the
warm-up of a new sending domain (its first day's cap, doubling each day).

Applied where invitations are turned into emails (``services.invitations_prepare_due``), so they hold
for waves and events alike. An invitation over a cap gets a later ``send_at`` — the next day's window
in its recipient's time zone, or an hour later — and its expiry and quiet period move with it.
Counts are of the invitations handed to the outbox, by their ``send_at`` (indexed).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from django.db.models import Min

from . import windows
from .models import Invitation, Program

HOUR = timedelta(hours=1)


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


class Throttle:
    """The caps for one pass of the preparer: counts read once per program or domain, then kept up
    to date as invitations are let through."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today: dict[int, int] = {}
        self.recipients: dict[int, Counter] = {}
        self.warmup: dict[str, tuple[int, int]] = {}  # sender domain -> (today's cap, sent today)

    def _day(self, program: Program) -> tuple[datetime, datetime]:
        zone = windows.recipient_zone("", "", program.timezone)
        day = self.now.astimezone(zone).date()
        start = datetime.combine(day, time(0), tzinfo=zone)
        return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)

    def _handed_over(self, **filters):
        return Invitation.objects.filter(email__isnull=False, **filters)

    def defer_until(self, invitation: Invitation) -> datetime | None:
        """None to send now (counted); otherwise when to try again."""
        program = invitation.program
        if not (program.daily_cap or program.domain_hourly_cap or program.warmup_first_day):
            return None  # no cap: nothing read, nothing counted
        zone = windows.contact_zone(program, invitation.contact)
        start, end = self._day(program)
        if program.daily_cap:
            if program.pk not in self.today:
                self.today[program.pk] = self._handed_over(program=program, send_at__gte=start, send_at__lt=end).count()
            if self.today[program.pk] >= program.daily_cap:
                return windows.slot(program, zone, end)
        sender = _domain(program.sender_email)
        if program.warmup_first_day:
            cap, sent = self._warmup(program, sender, start, end)
            if sent >= cap:
                return windows.slot(program, zone, end)
        recipient = _domain(invitation.contact.email)
        if program.domain_hourly_cap:
            if program.pk not in self.recipients:
                recent = self._handed_over(program=program, send_at__gt=self.now - HOUR, send_at__lte=self.now)
                self.recipients[program.pk] = Counter(
                    _domain(e) for e in recent.values_list("contact__email", flat=True)
                )
            if self.recipients[program.pk][recipient] >= program.domain_hourly_cap:
                return windows.next_window(program, zone, self.now + HOUR)
        self.today[program.pk] = self.today.get(program.pk, 0) + 1
        if program.domain_hourly_cap:
            self.recipients[program.pk][recipient] += 1
        if program.warmup_first_day:
            cap, sent = self.warmup[sender]
            self.warmup[sender] = (cap, sent + 1)
        return None

    def _warmup(self, program: Program, sender: str, start: datetime, end: datetime) -> tuple[int, int]:
        if sender not in self.warmup:
            same_sender = self._handed_over(program__sender_email__iendswith="@" + sender)
            first = same_sender.aggregate(first=Min("send_at"))["first"]
            days = max(0, (start.date() - first.astimezone(start.tzinfo).date()).days) if first else 0
            cap = program.warmup_first_day * 2 ** min(days, 30)
            self.warmup[sender] = (cap, same_sender.filter(send_at__gte=start, send_at__lt=end).count())
        return self.warmup[sender]


def defer(invitation: Invitation, until: datetime) -> None:
    """Move the invitation to `until`, its expiry and quiet period with it."""
    shift = until - invitation.send_at
    invitation.send_at = until
    invitation.expires_at += shift
    invitation.quiet_until += shift
