"""Demo programs: a quarterly relationship program with past waves, a transactional one on tickets."""

from __future__ import annotations

import random
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
    _recent_answers(relationship)
    return {"relationship": relationship, "transactional": transactional}


REASONS = {
    "promoter": [
        "The support team fixes things the same day.", "Reporting saves my team hours every week.",
        "Onboarding was smooth and our CSM is great.", "Reliable, fast, and the roadmap listens to us.",
    ],
    "passive": [
        "Good product, but pricing went up at renewal.", "Does the job. The mobile app lags behind.",
        "Fine overall; documentation could be better.", "",
    ],
    "detractor": [
        "Exports keep timing out and support takes days to answer.", "Billing errors two months in a row.",
        "Performance has been poor since the last release.", "Too hard to use for my team; onboarding was rushed.",
        "",
    ],
}  # fmt: skip


def _recent_answers(program: Program, count: int = 60) -> None:
    """Answers to the latest wave, routed like real ones, so the queues have work (first run only)."""
    from .models import Response
    from .services import response_submit

    if Response.objects.exists():
        return
    wave = program.waves.order_by("-scheduled_at").first()
    if wave is None:
        return
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    invitations = list(wave.invitations.select_related("program", "contact", "account").order_by("pk"))
    for invitation in rng.sample(invitations, min(count, len(invitations))):
        score = rng.choices(range(11), weights=[2, 1, 2, 2, 3, 4, 6, 10, 14, 22, 24])[0]
        category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        response_submit(
            invitation=invitation, score=score, reason=rng.choice(REASONS[category]), device_class="desktop"
        )


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
