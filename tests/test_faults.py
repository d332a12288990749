"""Faults, for real: workers killed with SIGKILL, a broker that loses its messages, mail servers that
refuse, stall or never answer, Redis stopped while customers answer. Real PostgreSQL, real Redis,
real worker processes and a real SMTP server in another process; every wait is bounded.

Run them alone with `pytest -m faults`; docs/RELIABILITY.md lists what each one shows.
"""

from collections import Counter
from datetime import timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config import env
from config.celery import app
from customers.models import Contact
from followups.models import Task
from outbox.models import EmailStatus, MailEvent, OutgoingEmail
from outbox.services import emails_send_due, emails_tick
from surveys import selectors, services
from surveys.models import Response

from .factories import AccountFactory, InvitationFactory, ProgramFactory, TransactionalProgramFactory
from .faultkit import PrivateRedis, SilentServer, Sink, Worker, wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.timeout(180),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis"), reason="needs Redis"),
]


def flush_broker() -> None:
    """What a Redis restart without persistence does to the queues: every message is gone."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@pytest.fixture
def live_broker(transactional_db):
    """Messages really go to Redis (no eager tasks), from a clean slate; workers are stopped after."""
    flush_broker()
    app.conf.task_always_eager = False
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.stop()
    app.conf.task_always_eager = True
    flush_broker()


def queue_wave(size: int, domain: str = "example.com", prefix: str = "c") -> list[str]:
    """A relationship wave of `size` contacts, prepared: its emails queued and senders woken."""
    program = ProgramFactory(send_day=1, send_hour=0, timezone="UTC")
    account = AccountFactory()
    emails = [f"{prefix}{n}@{domain}" for n in range(size)]
    Contact.objects.bulk_create(
        Contact(account=account, email=email, name=f"Contact {n}") for n, email in enumerate(emails)
    )
    services.wave_create(program=program, period="2026-Q4", scheduled_at=timezone.now())
    services.invitations_prepare_due()
    return emails


def test_a_worker_killed_twice_mid_wave_loses_no_email(live_broker, tmp_path):
    sink = Sink(tmp_path, "--delay", "0.01")
    try:
        emails = queue_wave(300)
        worker = Worker(tmp_path, "sends", EMAIL_URL=f"{sink.url}?timeout=5")
        live_broker.append(worker)
        for threshold in (60, 160):
            assert wait_for(lambda t=threshold: sum(sink.received().values()) >= t, 60), "sending did not start"
            worker.kill()  # SIGKILL mid-wave: no chance to record anything
            held = OutgoingEmail.objects.filter(status=EmailStatus.SENDING).count()
            assert held > 0, "the kill should land while the worker holds rows"
            worker = Worker(tmp_path, "sends", EMAIL_URL=f"{sink.url}?timeout=5")
            live_broker.append(worker)

        def all_sent() -> bool:
            emails_tick()  # what beat does every minute: dead senders' rows back to the queue, senders woken
            return OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == len(emails)

        assert wait_for(all_sent, 90, interval=1), Counter(OutgoingEmail.objects.values_list("status", flat=True))
        received = sink.received()
        assert set(received) == set(emails)  # nobody missed
        duplicates = sum(received.values()) - len(received)
        assert duplicates <= 2  # at most the one message in flight per kill (2 kills × 1 process)
        assert not OutgoingEmail.objects.exclude(status=EmailStatus.SENT).exists()
        assert not OutgoingEmail.objects.filter(attempts__gt=0).exists()  # a dead worker is not a failed attempt
        print(f"kill -9 twice mid-wave: {len(emails)} contacts, {len(received)} mailed, {duplicates} duplicate(s)")
    finally:
        sink.stop()


def test_database_connections_cut_and_redis_flushed_mid_wave_lose_no_email(live_broker, tmp_path):
    sink = Sink(tmp_path, "--delay", "0.01")
    try:
        emails = queue_wave(300)
        worker = Worker(tmp_path, "sends", EMAIL_URL=f"{sink.url}?timeout=5")
        live_broker.append(worker)
        assert wait_for(lambda: sum(sink.received().values()) >= 80, 60), "sending did not start"
        with connection.cursor() as cursor:  # what a PostgreSQL restart does to the worker's connections
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
        flush_broker()  # and Redis lost its queue at the same moment

        def all_sent() -> bool:
            emails_tick()
            return OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == len(emails)

        assert wait_for(all_sent, 90, interval=1), Counter(OutgoingEmail.objects.values_list("status", flat=True))
        received = sink.received()
        assert set(received) == set(emails)
        duplicates = sum(received.values()) - len(received)
        assert duplicates <= 1  # the message whose "sent" the cut connection did not record
        print(
            f"connections cut + queue lost mid-wave: {len(received)} of {len(emails)} mailed, {duplicates} duplicate(s)"
        )
    finally:
        sink.stop()


def test_a_broker_that_lost_its_messages_costs_one_tick(live_broker, tmp_path):
    sink = Sink(tmp_path)
    try:
        emails = queue_wave(50)
        flush_broker()  # Redis restarted and lost the wake-ups
        worker = Worker(tmp_path, "sends", EMAIL_URL=f"{sink.url}?timeout=5")
        live_broker.append(worker)
        worker.wait_ready()
        assert not wait_for(lambda: sink.received(), timeout=1.5)  # nothing tells the worker to send …
        assert emails_tick()["due"] == 50  # … until the tick looks in the database
        assert wait_for(lambda: sum(sink.received().values()) == 50, 30)
        assert sink.received() == Counter(dict.fromkeys(emails, 1))
    finally:
        sink.stop()


def test_greylisting_is_retried_and_refused_recipients_bounce(
    db, tmp_path, settings, django_capture_on_commit_callbacks
):
    sink = Sink(tmp_path, "--refuse-once", "grey", "--refuse", "gone")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5
    try:
        with django_capture_on_commit_callbacks(execute=False):
            program = ProgramFactory(send_day=1, send_hour=0, timezone="UTC")
            account = AccountFactory()
            for name in ("ok1", "ok2", "grey1", "grey2", "gone1", "gone2"):
                Contact.objects.create(account=account, email=f"{name}@example.com")
            services.wave_create(program=program, period="2026-Q4", scheduled_at=timezone.now())
            services.invitations_prepare_due()
        assert emails_send_due() == {"sent": 2, "failed": 2, "retrying": 2, "waiting": 0}
        grey = OutgoingEmail.objects.filter(to__startswith="grey")
        assert {(r.status, r.attempts) for r in grey} == {(EmailStatus.QUEUED, 1)}
        assert all("451" in r.last_error for r in grey)
        gone = OutgoingEmail.objects.filter(to__startswith="gone")
        assert {r.status for r in gone} == {EmailStatus.FAILED}
        bounced = Contact.objects.filter(bounced_at__isnull=False).order_by("email")
        assert [c.email for c in bounced] == ["gone1@example.com", "gone2@example.com"]
        assert "550 5.1.1 No such user here" in bounced[0].bounce_reason
        assert MailEvent.objects.filter(kind="bounced", source="smtp").count() == 2
        assert emails_send_due()["sent"] == 0  # the greylisted wait their turn …
        with time_machine.travel(timezone.now() + timedelta(minutes=2)):
            assert emails_send_due()["sent"] == 2  # … and go through the second time
        received = sink.received()
        assert received == Counter({"ok1@example.com": 1, "ok2@example.com": 1, "grey1@example.com": 1,
                                    "grey2@example.com": 1})  # fmt: skip
        _eligible, skipped = selectors.eligibility(program, timezone.now() + timedelta(days=120))
        assert skipped.get("bounced") == 2  # the next wave skips them
        page = Client()
        page.force_login(_admin())
        detail = page.get(reverse("customers:contact_detail", args=[bounced[0].pk])).content.decode()
        assert "Not surveyed any more" in detail
        assert "550 5.1.1 No such user here" in detail
    finally:
        sink.stop()


def use_broker(url: str) -> None:
    """Point this process's Celery app at another broker (its pools cache the old connections)."""
    app.conf.broker_url = url
    app._pool = None  # noqa: SLF001
    app.amqp._producer_pool = None  # noqa: SLF001


def _admin():
    from .factories import UserFactory

    return UserFactory(role="admin", team=None)


def test_a_mail_server_that_never_answers_blocks_nothing(live_broker, tmp_path):
    silent = SilentServer()
    try:
        queue_wave(5)
        sender = Worker(tmp_path, "sends", EMAIL_URL=f"smtp://127.0.0.1:{silent.port}?timeout=8")
        ticker = Worker(tmp_path, "ticks,default", EMAIL_URL=f"smtp://127.0.0.1:{silent.port}?timeout=8")
        live_broker.extend([sender, ticker])
        assert wait_for(lambda: silent.connections, 30), "the sender never tried to connect"
        stalled_at = timezone.now()
        # While the sender waits on the silent server, an event arrives and the tick must still run.
        TransactionalProgramFactory(event_types=["ticket_resolved"])
        outcome = services.event_record(
            type="ticket_resolved", contact_email="pat@example.org", account_external_id="CRM-9",
            occurred_at=timezone.now(), delay_minutes=0,
        )  # fmt: skip
        assert outcome.status == "scheduled"
        app.send_task("surveys.tasks.tick")
        assert wait_for(lambda: OutgoingEmail.objects.filter(to="pat@example.org").exists(), 6)
        assert timezone.now() - stalled_at < timedelta(seconds=8), "the tick waited for the send"

        def released() -> bool:
            rows = OutgoingEmail.objects.filter(to__endswith="@example.com")
            return all(r.status == EmailStatus.QUEUED and "unreachable" in r.last_error for r in rows)

        assert wait_for(released, 20), "the timeout was not honoured"
        rows = OutgoingEmail.objects.filter(to__endswith="@example.com")
        assert {(r.status, r.attempts) for r in rows} == {(EmailStatus.QUEUED, 0)}  # waiting, not failed
        assert all(r.next_attempt_at > timezone.now() for r in rows)
    finally:
        silent.stop()


def test_customers_answer_and_unsubscribe_while_redis_is_down(transactional_db, settings, tmp_path):
    private = PrivateRedis()
    settings.CACHES = {"default": env.redis_cache(private.url)}
    app.conf.task_always_eager = False
    use_broker(private.url)
    try:
        from .factories import UserFactory

        program = ProgramFactory()
        csm = UserFactory(role="csm")
        account = AccountFactory(csm=csm, team=csm.team)
        invitations = [
            InvitationFactory(program=program, contact=Contact.objects.create(account=account, email=f"p{n}@x.com"))
            for n in range(21)
        ]
        client = Client()

        def answer(invitation, score=3) -> None:
            url = reverse("surveys:answer", args=[invitation.token])
            posted = client.post(url, {"score": score, "reason": "Too slow"})
            assert posted.status_code == 302, posted.content[:300]
            thanks = client.get(posted.url)
            assert thanks.status_code == 200
            assert Response.objects.filter(invitation=invitation).exists()  # saved if and only if thanked

        for invitation in invitations[:10]:
            answer(invitation)
        assert client.get("/healthz").status_code == 200
        private.stop()  # cache, rate limiter and broker all gone
        for invitation in invitations[10:20]:
            answer(invitation)
        assert client.get(reverse("surveys:answer", args=[invitations[20].token]) + "?score=9").status_code == 200
        unsubscribed = client.post(reverse("surveys:unsubscribe", args=[invitations[20].token]))  # RFC 8058 one-click
        assert unsubscribed.status_code == 200
        assert Contact.objects.get(pk=invitations[20].contact_id).unsubscribed_at is not None
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["failing"] == ["cache", "broker"]
        assert Response.objects.count() == 20
        # Every answer is stored; its follow-ups wait, marked in the database, for a worker …
        assert Response.objects.filter(routed_at__isnull=True).count() == 20
        private.start()
        assert client.get("/healthz").status_code == 200
        app.conf.task_always_eager = True
        services.tick()  # … and the first tick after Redis returns routes them and sends the emails
        assert not Response.objects.filter(routed_at__isnull=True).exists()
        assert Task.objects.filter(queue="recovery").count() == 20
        assert OutgoingEmail.objects.filter(kind="task_assigned", status=EmailStatus.QUEUED).count() == 0
        assert sum(m.to == [csm.email] for m in mail.outbox) == 20  # one per detractor answer, none lost
    finally:
        private.stop()
        use_broker(settings.CELERY_BROKER_URL)
        app.conf.task_always_eager = True


def test_a_sent_mark_that_fails_stops_the_sender_before_the_next_message_is_accepted(
    live_broker, tmp_path, settings, monkeypatch
):
    """The "sent" marks run on their own connection, overlapped with the next message's MAIL and RCPT;
    when one fails, the next message is never accepted (its DATA is not sent) and no message is failed:
    the one whose mark was lost goes back to the queue, the one message in doubt."""
    from outbox import services as outbox_services

    sink = Sink(tmp_path)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5
    record, calls = outbox_services._Marks.record, []  # noqa: SLF001

    def second_fails(marks, params):
        calls.append(params)
        if len(calls) == 2:
            marks.settle()
            marks.pending = marks.thread.submit(lambda: 1 / 0)  # the database refused it
            return
        record(marks, params)

    try:
        emails = queue_wave(5)
        monkeypatch.setattr(outbox_services._Marks, "record", second_fails)  # noqa: SLF001
        with pytest.raises(outbox_services.MarkFailed):
            emails_send_due()
        assert sink.received() == Counter(emails[:2])  # the third message's DATA was never sent
        rows = {r.to: r for r in OutgoingEmail.objects.all()}
        assert rows[emails[0]].status == EmailStatus.SENT
        assert {rows[e].status for e in emails[1:]} == {EmailStatus.QUEUED}  # none failed …
        assert {rows[e].attempts for e in emails} == {0}  # … or counted as an attempt
        monkeypatch.setattr(outbox_services._Marks, "record", record)  # noqa: SLF001
        assert emails_send_due()["sent"] == 4
        assert sink.received() == Counter(emails) + Counter(emails[1:2])  # only the one in doubt, twice
    finally:
        sink.stop()
