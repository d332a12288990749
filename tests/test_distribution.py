"""Survey distribution: waves, eligibility, the outbox, reminders, unsubscribes."""

import re
import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.urls import reverse
from django.utils import timezone

from customers.models import AccountStatus, Segment
from outbox.models import EmailStatus, OutgoingEmail
from outbox.services import MAX_ATTEMPTS, emails_send_due
from surveys import services
from surveys.models import Invitation, Wave

from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, TransactionalProgramFactory

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


class FailingBackend(LocmemBackend):
    """An SMTP server that answers 451 (try again later) to every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPDataError(451, b"Temporary local problem")


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})


@pytest.fixture
def program(db):
    return ProgramFactory(send_day=1, send_hour=9, timezone="UTC")


@pytest.fixture
def audience(db):
    """Six contacts: two eligible, one of each reason to be left out."""
    active = AccountFactory(segment=Segment.SMB)
    return {
        "ok1": ContactFactory(account=active, email="ok1@example.com"),
        "ok2": ContactFactory(account=active, email="ok2@example.com"),
        "unsubscribed": ContactFactory(account=active, email="un@example.com", unsubscribed_at=NOW - timedelta(days=9)),
        "bounced": ContactFactory(account=active, email="bo@example.com", bounced_at=NOW - timedelta(days=9)),
        "churned": ContactFactory(account=AccountFactory(status=AccountStatus.CHURNED), email="ch@example.com"),
        "enterprise": ContactFactory(account=AccountFactory(segment=Segment.ENTERPRISE), email="en@example.com"),
    }


def run_tick(capture, now=NOW):
    with time_machine.travel(now, tick=False), capture(execute=True):
        return services.tick()


def test_a_due_wave_invites_every_eligible_contact_and_mails_them(
    program, audience, django_capture_on_commit_callbacks
):
    program.audience_segments = [Segment.SMB]
    program.save()
    result = run_tick(django_capture_on_commit_callbacks)
    wave = Wave.objects.get()
    assert wave.period == "2026-Q4"
    assert result["waves"] == 1
    assert wave.eligible_count == 2
    assert wave.skipped == {"account_churned": 1, "unsubscribed": 1, "bounced": 1, "outside_audience": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["ok1@example.com", "ok2@example.com"]
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == 2


def test_a_tick_on_a_running_clock_sends_the_wave_it_creates(program, audience, django_capture_on_commit_callbacks):
    """With the clock moving, invitations are due at the tick's instant, not a moment after it."""
    with time_machine.travel(NOW, tick=True), django_capture_on_commit_callbacks(execute=True):
        result = services.tick()
    assert result["waves"] == 1
    assert result["prepared"] == Wave.objects.get().eligible_count
    assert len(mail.outbox) == result["prepared"]


def test_the_survey_email(program, audience, client, django_capture_on_commit_callbacks):
    program.audience_segments = [Segment.SMB]
    program.save()
    audience["ok1"].name = "<b>Ada</b> Lovelace"
    audience["ok1"].save()
    run_tick(django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if m.to == ["ok1@example.com"])
    assert message.subject == "How likely are you to recommend Acme Cloud?"
    assert message.from_email == "Acme Success <success@acme.example.com>"
    html = message.alternatives[0][0]
    assert "Hi &lt;b&gt;Ada&lt;/b&gt;," in html
    assert "<b>Ada" not in html
    assert "Hi <b>Ada</b>," in message.body  # plain text is not HTML
    links = re.findall(r'href="(http://testserver/s/[0-9a-f]+/\?score=(\d+))"', html)
    assert [int(score) for _, score in links] == list(range(11))
    assert "0 – Not at all likely" in html
    assert "10 – Extremely likely" in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://testserver/u/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = links[7][0].split("/s/")[1].split("/")[0]
    assert len(token) >= 32
    invitation = Invitation.objects.get(contact=audience["ok1"])
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())  # only its hash is stored
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        page = client.get(links[7][0].replace("http://testserver", ""))
    assert page.status_code == 200
    assert 'value="7" checked' in page.content.decode()


def test_two_ticks_in_one_period_make_one_wave(program, audience, django_capture_on_commit_callbacks):
    run_tick(django_capture_on_commit_callbacks)
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(minutes=1))
    assert Wave.objects.count() == 1
    assert len(mail.outbox) == Invitation.objects.count() == 3  # ok1, ok2, enterprise (no audience filter)


def test_quiet_period_holds_across_streams(program, audience, django_capture_on_commit_callbacks):
    transactional = TransactionalProgramFactory(quiet_period_days=14)
    InvitationFactory(program=transactional, contact=audience["ok1"], when=NOW - timedelta(days=5))
    InvitationFactory(program=transactional, contact=audience["ok2"], when=NOW - timedelta(days=20))
    run_tick(django_capture_on_commit_callbacks)
    wave = Wave.objects.get()
    assert wave.skipped["quiet_period"] == 1
    assert {i.contact.email for i in wave.invitations.all()} == {"ok2@example.com", "en@example.com"}
    # …and the other way round: a relationship survey silences transactional ones for 30 days.
    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        outcome = services.event_record(
            type="ticket_resolved", contact_email="ok2@example.com",
            account_external_id=audience["ok2"].account.external_id, occurred_at=NOW + timedelta(days=10),
        )  # fmt: skip
    assert (outcome.status, outcome.reason) == ("skipped", "quiet_period")


def test_a_paused_program_sends_nothing(program, audience, django_capture_on_commit_callbacks):
    program.is_active = False
    program.save()
    run_tick(django_capture_on_commit_callbacks)
    assert Wave.objects.count() == 0
    assert mail.outbox == []


def test_pausing_after_invitations_were_made_stops_their_mail(audience, django_capture_on_commit_callbacks):
    program = TransactionalProgramFactory()
    invitation = InvitationFactory(program=program, contact=audience["ok1"], when=NOW)
    program.is_active = False
    program.save()
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(minutes=5))
    invitation.refresh_from_db()
    assert invitation.skipped_reason == "program_paused"
    assert mail.outbox == []


def test_unsubscribed_and_bounced_contacts_are_never_mailed(audience, django_capture_on_commit_callbacks):
    program = TransactionalProgramFactory()
    scheduled = InvitationFactory(program=program, contact=audience["ok1"], when=NOW)
    bounced_later = InvitationFactory(program=program, contact=audience["ok2"], when=NOW)
    audience["ok1"].unsubscribed_at = NOW - timedelta(minutes=1)
    audience["ok1"].save()
    audience["ok2"].bounced_at = NOW - timedelta(minutes=1)
    audience["ok2"].save()
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(minutes=5))
    assert mail.outbox == []
    scheduled.refresh_from_db()
    bounced_later.refresh_from_db()
    assert (scheduled.skipped_reason, bounced_later.skipped_reason) == ("unsubscribed", "bounced")


def test_the_send_task_run_twice_sends_once(program, audience, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=False):
        services.tick()
    ids = list(OutgoingEmail.objects.values_list("pk", flat=True))
    assert emails_send_due(ids=ids)["sent"] == 3
    assert emails_send_due(ids=ids) == {"sent": 0, "failed": 0, "retrying": 0, "waiting": 0}
    assert len(mail.outbox) == 3


def test_smtp_failures_retry_with_backoff_then_fail(program, audience, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.test_distribution.FailingBackend"
    moment = NOW
    run_tick(django_capture_on_commit_callbacks, moment)
    row = OutgoingEmail.objects.first()
    assert (row.status, row.attempts) == (EmailStatus.QUEUED, 1)
    assert "451" in row.last_error
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    delays = []
    for _ in range(MAX_ATTEMPTS - 1):
        row.refresh_from_db()
        if row.status != EmailStatus.QUEUED:
            break
        delays.append(row.next_attempt_at - moment)
        moment = row.next_attempt_at
        run_tick(django_capture_on_commit_callbacks, moment)
    row.refresh_from_db()
    assert delays == [timedelta(minutes=2**n) for n in range(MAX_ATTEMPTS - 1)]  # 1, 2, 4 … 64 minutes
    assert (row.status, row.attempts) == (EmailStatus.FAILED, MAX_ATTEMPTS)
    assert Invitation.objects.get(email=row).status == "failed"
    assert mail.outbox == []


def test_a_refused_recipient_fails_at_once(program, audience, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.test_distribution.RefusingBackend"
    run_tick(django_capture_on_commit_callbacks)
    row = OutgoingEmail.objects.first()
    assert (row.status, row.attempts) == (EmailStatus.FAILED, 1)
    assert "550 No such user" in row.last_error
    contact = Invitation.objects.get(email=row).contact
    assert contact.bounced_at is not None  # a permanent refusal for the recipient is a bounce
    assert "550 No such user" in contact.bounce_reason


def test_a_wave_whose_wake_ups_were_lost_is_sent_by_the_next_tick(program, django_capture_on_commit_callbacks):
    account = AccountFactory()
    for n in range(250):
        ContactFactory(account=account, email=f"c{n}@example.com")
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=False) as lost:
        services.tick()  # the tick queues 250 emails and wakes the senders …
    assert lost  # … but the broker loses those messages
    queued = list(OutgoingEmail.objects.order_by("pk").values_list("pk", flat=True))
    emails_send_due(ids=queued[:100])  # one sender got through before the loss
    assert len(mail.outbox) == 100
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(minutes=1))  # the database says what is due
    recipients = [m.to[0] for m in mail.outbox]
    assert len(recipients) == 250
    assert len(set(recipients)) == 250
    assert OutgoingEmail.objects.exclude(status=EmailStatus.SENT).count() == 0


def test_rows_of_a_sender_that_died_go_back_to_the_queue_and_are_sent(
    program, audience, settings, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=False):
        services.tick()
    row = OutgoingEmail.objects.first()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    OutgoingEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.SENDING, claimed_by="dead-worker", claimed_at=NOW, lease_until=NOW + lease
    )
    run_tick(django_capture_on_commit_callbacks, NOW + lease - timedelta(seconds=1))
    row.refresh_from_db()
    assert row.status == EmailStatus.SENDING  # the lease still holds: its sender may be alive
    assert row.to not in [m.to[0] for m in mail.outbox]
    run_tick(django_capture_on_commit_callbacks, NOW + lease + timedelta(seconds=1))
    row.refresh_from_db()
    assert (row.status, row.attempts) == (EmailStatus.SENT, 0)  # never counted as a failed attempt
    assert [m.to[0] for m in mail.outbox].count(row.to) == 1


def test_one_reminder_at_most_and_never_after_expiry_or_an_answer(audience, django_capture_on_commit_callbacks):
    program = ProgramFactory(reminder_after_days=3, link_expiry_days=10)
    run_tick(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 3
    answered = Invitation.objects.get(contact=audience["ok2"])
    answered.responded_at = NOW + timedelta(days=1)
    answered.save()
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(days=2, hours=23))
    assert len(mail.outbox) == 3
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(days=3, minutes=1))
    reminders = mail.outbox[3:]
    assert sorted(m.to[0] for m in reminders) == ["en@example.com", "ok1@example.com"]
    assert reminders[0].subject.startswith("Reminder: ")
    for day in (4, 5, 9):
        run_tick(django_capture_on_commit_callbacks, NOW + timedelta(days=day))
    assert len(mail.outbox) == 5
    assert program.invitations.exclude(reminder_email=None).count() == 2
    # A later invitation whose reminder time falls after its expiry gets none.
    late = TransactionalProgramFactory(name="Late", reminder_after_days=5, link_expiry_days=4)
    InvitationFactory(program=late, contact=ContactFactory(), when=NOW + timedelta(days=40))
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(days=40, minutes=1))
    run_tick(django_capture_on_commit_callbacks, NOW + timedelta(days=46))
    assert late.invitations.get().reminder_email is None


def test_unsubscribe_link_and_one_click_post(client, program, audience, django_capture_on_commit_callbacks):
    run_tick(django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(contact=audience["ok1"])
    url = reverse("surveys:unsubscribe", args=[invitation.token])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Unsubscribe from surveys?" in page.content
    audience["ok1"].refresh_from_db()
    assert audience["ok1"].unsubscribed_at is None  # a GET (a mail scanner) changes nothing
    csrf_client = client.__class__(enforce_csrf_checks=True)
    response = csrf_client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    audience["ok1"].refresh_from_db()
    assert audience["ok1"].unsubscribed_at is not None
    # No program mails them again.
    sent_before = len(mail.outbox)
    next_quarter = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    run_tick(django_capture_on_commit_callbacks, next_quarter)
    assert "ok1@example.com" not in [m.to[0] for m in mail.outbox[sent_before:]]
    assert Wave.objects.get(period="2027-Q1").skipped["unsubscribed"] == 2


def test_forged_tokens_get_a_friendly_page(client, db):
    for token in ("0" * 40, "not-a-token", "x" * 200):
        assert client.get(f"/s/{token}/").status_code == 404
        assert client.get(f"/u/{token}/").status_code == 404
    assert client.post("/u/" + "0" * 40 + "/").status_code == 404


def test_an_expired_link_answers_410(client, db):
    invitation = InvitationFactory(when=timezone.now() - timedelta(days=40))
    response = client.get(reverse("surveys:answer", args=[invitation.token]))
    assert response.status_code == 410
    assert b"This survey has closed" in response.content


def test_dispatch_due_command_sends_without_a_worker(program, audience, capsys, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("dispatch_due")
    assert "1 waves started" in capsys.readouterr().out
    assert len(mail.outbox) == 3


@pytest.mark.parametrize("name", ["<b>Zoë</b>&O'Brien\"x Co", "", "reboundmerge"])
@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("reminder", [False, True])
def test_the_mail_merge_equals_a_direct_render(db, name, locale, reminder):
    from surveys.emails import SurveyMailer, render_survey_email

    program = ProgramFactory(intro="Dear {first_name}, thanks for using {product}.", subject="{first_name}, a question")
    mailer = SurveyMailer()
    for n in range(3):  # later invitations reuse the first one's rendered variant
        contact = ContactFactory(name=f"{name} {n}".strip() if name else "", locale=locale)
        invitation = InvitationFactory(program=program, contact=contact)
        merged = mailer.build(invitation, reminder=reminder)
        direct = render_survey_email(
            invitation, reminder=reminder, first_name=contact.first_name, token=invitation.token
        )
        assert (merged.subject, merged.body_text, merged.body_html) == (
            direct.subject,
            direct.body_text,
            direct.body_html,
        )
    assert len(mailer._variants) == 1
