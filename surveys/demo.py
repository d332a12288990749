"""Demo programs: a quarterly relationship program with past waves, a transactional one on tickets."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from customers.models import AccountStatus, Contact
from outbox.models import EmailStatus, OutgoingEmail

from . import cadence
from .models import Invitation, Program, Stream, Wave

PAST_WAVES = 4


def seed() -> dict[str, Program]:
    relationship, _ = Program.objects.get_or_create(
        name="Quarterly relationship survey",
        stream=Stream.RELATIONSHIP,
        defaults={
            "product_name": "Acme Cloud",
            "sender_name": "Acme Customer Success",
            "sender_email": "success@acme.example.com",
            "start_date": timezone.localdate() - timedelta(days=3 * 365),
            "quiet_period_days": 30,
        },
    )
    transactional, _ = Program.objects.get_or_create(
        name="Support ticket survey",
        stream=Stream.TRANSACTIONAL,
        defaults={
            "product_name": "Acme Support",
            "sender_name": "Acme Support",
            "sender_email": "support@acme.example.com",
            "event_types": ["ticket_resolved"],
            "delay_minutes": 60,
            "quiet_period_days": 14,
            "subject": "How did we do on your ticket?",
        },
    )
    _past_waves(relationship)
    return {"relationship": relationship, "transactional": transactional}


def _past_waves(program: Program) -> None:
    """The last four periods' waves, as if they had been sent (history only: no mail goes out)."""
    now = timezone.now()
    year, index = cadence.period_containing(program, now.astimezone(program.tz).date())
    periods = []
    for _ in range(PAST_WAVES):
        periods.append((year, index))
        year, index = (year - 1, 12 // program.cadence_months - 1) if index == 0 else (year, index - 1)
    contacts = list(
        Contact.objects.reachable().filter(account__status=AccountStatus.ACTIVE).only("pk", "account_id", "email")
    )
    for year, index in reversed(periods):
        label = cadence.period_label(year, index, program.cadence_months)
        at = cadence.wave_time(program, year, index)
        if at > now or Wave.objects.filter(program=program, period=label).exists():
            continue
        wave = Wave.objects.create(program=program, period=label, scheduled_at=at, eligible_count=len(contacts))
        emails = OutgoingEmail.objects.bulk_create(
            OutgoingEmail(
                key=f"demo:{wave.pk}:{c.pk}", kind="survey", to=c.email, from_email=program.sender,
                subject=f"How likely are you to recommend {program.product_name}?",
                body_text="(demo history: this email was not sent)", status=EmailStatus.SENT, attempts=1, sent_at=at,
            )
            for c in contacts
        )  # fmt: skip
        Invitation.objects.bulk_create(
            Invitation(
                program=program, stream=program.stream, wave=wave, contact=c, account_id=c.account_id, send_at=at,
                expires_at=at + timedelta(days=program.link_expiry_days),
                quiet_until=at + timedelta(days=program.quiet_period_days), email=email,
                **Invitation.new_token_fields(),
            )
            for c, email in zip(contacts, emails, strict=True)
        )  # fmt: skip
