"""Off the happy path, without extra processes: imports that crash or meet bad values, jobs whose
worker died, concurrent events, the digest, ESP webhooks for bounces and complaints."""

import base64
import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import importing
from customers import services as customer_services
from customers.models import Account, Contact, ImportJob, ImportKind, ImportStatus
from followups import services as followup_services
from outbox.models import EmailStatus, MailEvent, OutgoingEmail
from surveys import selectors
from surveys import services as survey_services
from surveys.models import Event, Invitation

from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, TransactionalProgramFactory

NO_RETENTION = {"anonymised_responses": 0, "erased_contacts": 0}  # DATA_RETENTION_MONTHS is off
ACCOUNT_ROWS = "".join(f"A-{n},Account {n},{n * 10}\n" for n in range(1, 600))


def job_for(data: bytes, user=None) -> ImportJob:
    return ImportJob.objects.create(
        kind=ImportKind.ACCOUNTS, file=SimpleUploadedFile("a.csv", data), filename="a.csv", created_by=user
    )


def test_an_out_of_range_number_is_a_row_error_and_its_chunk_is_kept(db):
    data = "external_id,name,employee_count\n" + ACCOUNT_ROWS + "BIG,Huge Co,3000000000\n"
    job = customer_services.import_job_run(job_for(data.encode()).pk)
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.error_count) == (599, 1)
    assert job.errors == [
        {"line": 601, "reason": "employee_count '3000000000' is out of range (at most 2,147,483,647)"}
    ]
    assert Account.objects.count() == 599


def test_a_row_the_database_refuses_is_reported_alone(db, monkeypatch):
    # Should a value slip past the row checks, the chunk is written row by row: one error, the rest kept.
    monkeypatch.setattr(importing, "MAX_WHOLE_NUMBER", 10**12)
    data = "external_id,name,employee_count\n" + ACCOUNT_ROWS[:2000] + "BIG,Huge Co,3000000000\nZ-1,Last,5\n"
    result = importing.import_customers(kind=ImportKind.ACCOUNTS, data=data.encode())
    rows = data.count("\n") - 1
    assert result.error_count == 1
    assert result.errors[0]["line"] == rows  # the BIG row's line
    assert "the database refused this row" in result.errors[0]["reason"]
    assert result.created == rows - 1
    assert Account.objects.filter(external_id="Z-1").exists()
    assert not Account.objects.filter(external_id="BIG").exists()


def test_a_crashing_import_ends_failed_with_a_message_and_runs_again(
    client, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    def crash(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(customer_services, "import_customers", crash)
    job = customer_services.import_job_run(job_for(b"external_id,name\nX-1,One\n", admin_user).pk)
    assert job.status == ImportStatus.FAILED
    assert "RuntimeError: disk on fire" in job.message
    assert "running it again is safe" in job.message
    monkeypatch.undo()
    client.force_login(admin_user)
    page = client.get(reverse("customers:import_detail", args=[job.pk])).content.decode()
    assert "Run it again" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import_retry", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportStatus.DONE, 1)


def test_the_tick_restarts_imports_whose_worker_died_and_fails_them_after_three_tries(
    db, django_capture_on_commit_callbacks
):
    now = timezone.now()
    dead = job_for(b"external_id,name\nD-1,Dead\n")
    ImportJob.objects.filter(pk=dead.pk).update(status=ImportStatus.RUNNING, attempts=1, heartbeat_at=now)
    hopeless = job_for(b"external_id,name\nH-1,Hopeless\n")
    ImportJob.objects.filter(pk=hopeless.pk).update(status=ImportStatus.RUNNING, attempts=3, heartbeat_at=now)
    lost = job_for(b"external_id,name\nL-1,Lost\n")  # queued, but its message never reached a worker
    ImportJob.objects.filter(pk=lost.pk).update(dispatched_at=now)
    with time_machine.travel(now + timedelta(minutes=1)):
        assert customer_services.imports_recover() == {"requeued": 0, "failed": 0, "redispatched": 0}  # alive
    with time_machine.travel(now + timedelta(minutes=6)), django_capture_on_commit_callbacks(execute=True):
        assert customer_services.tick() == {"requeued": 1, "failed": 1, "redispatched": 1, **NO_RETENTION}
    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {dead.pk: ImportStatus.DONE, hopeless.pk: ImportStatus.FAILED, lost.pk: ImportStatus.DONE}
    assert "interrupted 3 times" in ImportJob.objects.get(pk=hopeless.pk).message
    assert set(Account.objects.values_list("external_id", flat=True)) == {"D-1", "L-1"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize(
    ("delay", "expected"),
    [(0, ["scheduled", "scheduled"]), (60, ["scheduled", "skipped"])],  # 60: the first one's quiet period holds
)
def test_two_events_for_the_same_new_contact_at_once_make_one_contact(transactional_db, delay, expected):
    TransactionalProgramFactory(event_types=["ticket_resolved"], cap_per_contact=0, quiet_period_days=0)
    barrier = threading.Barrier(2)
    outcomes = []

    def post(key: str) -> None:
        barrier.wait()
        try:
            outcomes.append(
                survey_services.event_record(
                    type="ticket_resolved",
                    contact_email="New.Person@example.com",
                    account_external_id="NEW-1",
                    occurred_at=timezone.now(),
                    idempotency_key=key,
                    delay_minutes=delay,
                ).status
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(key,)) for key in ("ticket-1", "ticket-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == expected
    assert Contact.objects.filter(email="new.person@example.com").count() == 1
    assert Account.objects.filter(external_id="NEW-1").count() == 1
    assert Event.objects.count() == 2  # both recorded; a skip is a fatigue rule, never a disguised conflict
    assert Invitation.objects.count() == expected.count("scheduled")
    assert not Event.objects.filter(skip_reason="duplicate").exists()


def test_the_same_idempotency_key_is_the_only_duplicate(db):
    TransactionalProgramFactory(event_types=["ticket_resolved"], cap_per_contact=0, quiet_period_days=0)
    first = survey_services.event_record(
        type="ticket_resolved", contact_email="a@example.com", account_external_id="A", occurred_at=timezone.now(),
        idempotency_key="k-1",
    )  # fmt: skip
    again = survey_services.event_record(
        type="ticket_resolved", contact_email="a@example.com", account_external_id="A", occurred_at=timezone.now(),
        idempotency_key="k-1",
    )  # fmt: skip
    assert (first.status, again.status, again.reason) == ("scheduled", "skipped", "duplicate")


def test_the_digest_checks_before_inserting(csm, django_capture_on_commit_callbacks):
    csm.daily_digest = True
    csm.save()
    morning = timezone.now().replace(hour=9, minute=0)
    with time_machine.travel(morning, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert followup_services.digests_send() == 1
        with CaptureQueriesContext(connection) as queries:
            assert followup_services.digests_send() == 0
    assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]


# ESP webhooks ---------------------------------------------------------------------------------------

AUTH = "Basic " + base64.b64encode(b"hook:test-webhook-secret").decode()


def postmark(client, payload: dict, auth: str = AUTH):
    return client.post(
        "/webhooks/mail/postmark/tracking/", json.dumps(payload), content_type="application/json",
        headers={"authorization": auth},
    )  # fmt: skip


@pytest.fixture
def sent_survey(db):
    program = ProgramFactory()
    contact = ContactFactory(account=AccountFactory(), email="pat@example.com")
    invitation = InvitationFactory(program=program, contact=contact)
    row = OutgoingEmail.objects.create(
        key=f"survey:{invitation.pk}", kind="survey", to=contact.email, from_email="nps@example.com", subject="Hi",
        status=EmailStatus.SENT, sent_at=timezone.now(), provider_message_id="pm-123",
    )  # fmt: skip
    Invitation.objects.filter(pk=invitation.pk).update(email=row)
    return program, contact, row


def test_a_hard_bounce_webhook_stops_surveys_to_the_contact(client, sent_survey):
    program, contact, row = sent_survey
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "ID": 42, "MessageID": "pm-123",
              "Email": "Pat@Example.com", "BouncedAt": "2026-11-20T10:00:00Z", "Description": "Address unknown",
              "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist"}  # fmt: skip
    assert postmark(client, bounce).status_code == 200
    assert postmark(client, bounce).status_code == 200  # the ESP retried: recorded once
    contact.refresh_from_db()
    assert contact.bounced_at is not None
    assert "does not exist" in contact.bounce_reason
    event = MailEvent.objects.get()
    assert (event.kind, event.source, event.email) == ("bounced", "Postmark", row)
    _eligible, skipped = selectors.eligibility(program, timezone.now() + timedelta(days=365))
    assert skipped.get("bounced") == 1


def test_a_spam_complaint_unsubscribes_and_counts_against_the_program(client, admin_user, sent_survey):
    program, contact, _row = sent_survey
    complaint = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "TypeCode": 512, "ID": 43,
                 "MessageID": "pm-123", "Email": "pat@example.com", "BouncedAt": "2026-11-20T10:00:00Z"}  # fmt: skip
    assert postmark(client, complaint).status_code == 200
    contact.refresh_from_db()
    assert contact.complained_at is not None and contact.unsubscribed_at is not None
    client.force_login(admin_user)
    page = client.get(reverse("surveys:program_detail", args=[program.pk])).content.decode()
    assert "1 marked as spam" in page
    assert "100.00 %" in page  # one complaint for one email: far over the 0.3 % limit
    assert "text-bg-danger" in page
    contact_page = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "Marked a survey email as spam" in contact_page


def test_webhooks_refuse_a_wrong_secret(client, sent_survey):
    _program, contact, _row = sent_survey
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "ID": 44, "Email": "pat@example.com"}
    wrong = "Basic " + base64.b64encode(b"hook:guess").decode()
    assert postmark(client, bounce, auth=wrong).status_code in (400, 403)
    contact.refresh_from_db()
    assert contact.bounced_at is None
    assert not MailEvent.objects.exists()


@pytest.mark.parametrize("score", ["²", "٣", "1e1", "-1", "11", " 7", "9" * 400])
def test_odd_scores_in_the_link_or_the_form_never_make_a_500(client, db, score):
    invitation = InvitationFactory(program=ProgramFactory())
    url = reverse("surveys:answer", args=[invitation.token])
    page = client.get(url, {"score": score})
    assert page.status_code == 200
    assert "checked" not in page.content.decode()
    posted = client.post(url, {"score": score, "reason": "x"})
    assert posted.status_code == 400
    assert "The score must be a whole number from 0 to 10." in posted.content.decode()


def test_a_whitespace_only_reason_is_stored_as_no_reason(client, db):
    invitation = InvitationFactory(program=ProgramFactory())
    url = reverse("surveys:answer", args=[invitation.token])
    assert client.post(url, {"score": 9, "reason": " \n\t "}).status_code == 302
    assert invitation.response.reason == ""


# Answers: stored in the request, routed after the commit, swept by the tick -----------------------


@pytest.mark.django_db
def test_an_answer_whose_wake_up_was_lost_is_routed_by_the_next_tick(django_capture_on_commit_callbacks, contact):
    """The process dies right after the commit (its on-commit wake-up never runs): the response is
    stored and marked pending, and the next tick opens its tasks."""
    from followups.models import Task
    from surveys import services
    from surveys.answers import response_submit

    from .factories import InvitationFactory, ProgramFactory

    invitation = InvitationFactory(program=ProgramFactory(), contact=contact)
    with django_capture_on_commit_callbacks(execute=False) as wake_ups:
        result = response_submit(invitation=invitation, score=1, reason="Broken again")
    assert len(wake_ups) == 1  # … and it is dropped, as a crash would
    result.response.refresh_from_db()
    assert result.response.routed_at is None
    assert not Task.objects.filter(response=result.response).exists()
    assert services.tick()["routed"] == 1
    assert Task.objects.filter(response=result.response, queue="recovery").count() == 1
    assert services.tick()["routed"] == 0  # routed once, never twice
    assert Task.objects.filter(response=result.response).count() == 1


@pytest.mark.django_db
def test_a_consumer_that_fails_leaves_only_its_response_pending(monkeypatch, contact):
    from followups.models import Task
    from followups.services import route_response
    from surveys import answers
    from surveys.answers import response_submit, responses_route_pending

    from .factories import InvitationFactory, ProgramFactory

    program = ProgramFactory()
    broken = response_submit(invitation=InvitationFactory(program=program, contact=contact), score=2, reason="x")
    fine = response_submit(invitation=InvitationFactory(program=program, contact=contact), score=3, reason="y")

    def flaky(*, response, previous_category):
        if response.pk == broken.response.pk:
            raise RuntimeError("a consumer's bug")
        route_response(response=response, previous_category=previous_category)

    monkeypatch.setattr(answers, "consumers", lambda: [flaky])
    assert responses_route_pending() == 1
    assert Task.objects.filter(response=fine.response).exists()
    assert not Task.objects.filter(response=broken.response).exists()
    broken.response.refresh_from_db()
    assert broken.response.routed_at is None  # still pending: the next tick tries again
    monkeypatch.undo()
    assert responses_route_pending() == 1
    assert Task.objects.filter(response=broken.response).exists()


@pytest.mark.django_db
def test_an_edit_before_routing_is_routed_once_for_its_final_category(contact):
    """2, then 9 before any worker ran: one promoter routing, no recovery task ever opened."""
    from followups.models import Task
    from followups.services import QUEUES_BY_CATEGORY
    from surveys.answers import response_submit, responses_route_pending

    from .factories import InvitationFactory, ProgramFactory

    invitation = InvitationFactory(program=ProgramFactory(), contact=contact)
    response_submit(invitation=invitation, score=2, reason="Bad")
    response_submit(invitation=invitation, score=9, reason="Actually great")
    assert responses_route_pending() == 1
    assert set(Task.objects.values_list("queue", flat=True)) == set(QUEUES_BY_CATEGORY["promoter"])
