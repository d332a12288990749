"""Demo programs: a quarterly relationship program with past waves, a transactional one on tickets."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from customers.models import AccountStatus, Contact
from outbox.models import EmailStatus, OutgoingEmail

from . import cadence
from .models import Invitation, Program, Stream, Wave

PAST_WAVES = 8  # two years of quarterly history


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
    _history(relationship, transactional)
    return {"relationship": relationship, "transactional": transactional}


def try_it_yourself(program: Program) -> str:
    """A survey email to the demo Admin whose links work end to end, in the Outbox once the worker
    sends it (first run only). Returns the Admin's address."""
    from accounts.models import Role, User

    from .models import Invitation
    from .services import test_email_send

    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if admin and not Invitation.objects.filter(is_test=True, contact__email__iexact=admin.email).exists():
        test_email_send(program=program, user=admin)
    return admin.email if admin else ""


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
    from .answers import response_submit, responses_route_pending
    from .models import Response

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
    responses_route_pending()  # what the worker does after each commit


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


AGENTS = ["Sam Rivera", "Alex Kim", "Jordan Lee", "Priya Shah", "Tomás Ortega"]
HISTORY_REASONS = {
    "promoter": REASONS["promoter"] + ["Support answered in minutes.", "The new dashboards are excellent."],
    "passive": REASONS["passive"] + ["Decent, but the price is hard to justify.", "Setup took longer than promised."],
    "detractor": REASONS["detractor"] + ["Too expensive since the price change.", "The docs are out of date.",
                                         "Invoice errors again; billing is a mess."],
}  # fmt: skip


def _history(relationship: Program, transactional: Program) -> None:
    """Two years of answers in both streams, closed follow-ups included (first run only).

    The story: relationship NPS climbs from about 0 to about 35 over eight quarters, while pricing
    complaints grow in SMB lately; support tickets score well on chat and worse on email.
    """
    from followups.models import Outcome, Queue, Task, TaskStatus

    from .answers import response_snapshot
    from .models import Response, category_for

    latest = relationship.waves.order_by("-scheduled_at").first()
    if latest is None or Response.objects.filter(submitted_at__lt=latest.scheduled_at).exists():
        return
    rng = random.Random(11)  # noqa: S311 - demo data, not security
    responses: list[Response] = []
    waves = list(relationship.waves.order_by("scheduled_at"))[:-1]
    # One contact in six stays unhappy wave after wave: the history the detractor-risk model learns from.
    unhappy: dict[int, bool] = {}
    for index, wave in enumerate(waves):
        improve = index / max(len(waves) - 1, 1)
        weights = [3, 2, 3, 3, 4, 5, 6, 10, 12, 14 + 10 * improve, 10 + 14 * improve]
        invitations = list(wave.invitations.select_related("account", "contact"))
        for invitation in rng.sample(invitations, int(len(invitations) * 0.6)):
            if unhappy.setdefault(invitation.contact_id, rng.random() < 1 / 6):
                score = rng.choices(range(11), weights=[5, 5, 6, 7, 7, 6, 5, 3, 2, 1, 1])[0]
            else:
                score = rng.choices(range(11), weights=weights)[0]
            category = category_for(score)
            reason = rng.choice(HISTORY_REASONS[category])
            pricing_wave = invitation.account.segment == "smb" and improve > 0.7 and rng.random() < 0.5
            if category != "promoter" and pricing_wave:
                reason = "Too expensive since the price change."
            at = wave.scheduled_at + timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 12))
            responses.append(_response(invitation, score, reason, at, response_snapshot))
    now = timezone.now()
    contacts = list(Contact.objects.reachable().select_related("account")[:400])
    for n in range(1500):  # tickets surveyed; about 40 % answer
        at = now - timedelta(days=rng.randint(35, 730), hours=rng.randint(0, 23))
        channel = rng.choice(["chat", "phone", "email"])
        contact = rng.choice(contacts)
        email = OutgoingEmail.objects.create(  # delivered, so the response rate reads answered of delivered
            key=f"demo:ticket:{n}", kind="survey", to=contact.email, from_email=transactional.sender,
            subject=transactional.subject, body_text="(demo history: this email was not sent)",
            status=EmailStatus.SENT, attempts=1, sent_at=at,
        )  # fmt: skip
        invitation = Invitation.objects.create(
            email=email,
            program=transactional, stream=Stream.TRANSACTIONAL, contact=contact, account=contact.account,
            properties={"touchpoint": "ticket", "channel": channel, "agent": rng.choice(AGENTS),
                        "ticket_id": f"T-{10000 + n}"},
            send_at=at, expires_at=at + timedelta(days=30), quiet_until=at + timedelta(days=14),
            **Invitation.new_token_fields(),
        )  # fmt: skip
        invitation.account = contact.account
        if rng.random() >= 0.4:
            continue
        weights = [2, 1, 1, 2, 2, 3, 4, 8, 12, 20, 22] if channel != "email" else [5, 3, 4, 5, 6, 6, 8, 10, 10, 8, 6]
        score = rng.choices(range(11), weights=weights)[0]
        responses.append(_response(invitation, score, rng.choice(HISTORY_REASONS[category_for(score)]), at,
                                   response_snapshot))  # fmt: skip
    Response.objects.bulk_create(responses, batch_size=1000)
    for response in responses:
        Invitation.objects.filter(pk=response.invitation_id).update(responded_at=response.submitted_at)
    outcomes = {
        Queue.RECOVERY: [Outcome.RECOVERED] * 5 + [Outcome.AT_RISK] * 2 + [Outcome.CHURNED] + [Outcome.NO_REPLY] * 2,
        Queue.CHECKIN: [Outcome.DONE],
        Queue.REFERRAL: [Outcome.REFERRAL_GIVEN, Outcome.DECLINED, Outcome.DECLINED],
        Queue.ADVOCACY: [Outcome.REVIEW_POSTED, Outcome.REFERENCE_AGREED, Outcome.DECLINED, Outcome.DECLINED],
    }  # fmt: skip
    queues = {"detractor": [Queue.RECOVERY], "passive": [Queue.CHECKIN], "promoter": [Queue.REFERRAL, Queue.ADVOCACY]}
    due_after = {Queue.RECOVERY: timedelta(hours=24), Queue.CHECKIN: timedelta(days=7)}
    tasks = []
    for response in responses:
        for queue in queues[response.category]:
            due = response.submitted_at + due_after.get(queue, timedelta(days=7))
            contacted = response.submitted_at + timedelta(hours=rng.choice([2, 5, 9, 20, 30, 50]))
            urgent = queue == Queue.RECOVERY and response.score <= 3
            tasks.append(Task(
                response=response, queue=queue, status=TaskStatus.CLOSED, urgent=urgent,
                account_id=response.account_id, contact_id=response.contact_id, team_id=response.team_id,
                assignee_id=response.csm_id, segment=response.segment, created_at=response.submitted_at, due_at=due,
                first_contact_at=contacted, outcome=rng.choice(outcomes[queue]),
                closed_at=contacted + timedelta(days=2),
            ))  # fmt: skip
    Task.objects.bulk_create(tasks, batch_size=1000)
    from insights.services import responses_retag

    from .answers import latest_answers_rebuild

    responses_retag()
    latest_answers_rebuild()  # the history was bulk-loaded, not routed
    # What the hourly intelligence tick would do on a real instance: likely detractors, and themes to review.
    from insights.discovery import discovery_run, discovery_start
    from insights.risk import train_and_score

    train_and_score(trigger="demo")
    now = timezone.now()
    job = discovery_start(stream=Stream.RELATIONSHIP, start=now - timedelta(days=365), end=now, trigger="demo",
                          dispatch=False)  # fmt: skip
    if job:
        discovery_run(job.pk)


def _response(invitation: Invitation, score: int, reason: str, at, snapshot):
    from .models import Response, category_for

    return Response(
        invitation=invitation, program_id=invitation.program_id, stream=invitation.stream, wave_id=invitation.wave_id,
        contact_id=invitation.contact_id, account_id=invitation.account_id, score=score, category=category_for(score),
        reason=reason, device_class=random.choice(["desktop", "desktop", "mobile"]),  # noqa: S311
        language="en", submitted_at=at, updated_at=at, routed_at=at, routed_category=category_for(score),
        **snapshot(invitation, at),
    )  # fmt: skip
