"""Races that only mean something on PostgreSQL: two ticks at once, two senders at once."""

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection

from outbox.models import EmailStatus, OutgoingEmail
from outbox.services import emails_send_due
from surveys import answers, services
from surveys.models import Invitation, Wave

from .factories import AccountFactory, ContactFactory, ProgramFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
NOW = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


def run_in_threads(target, count=2):
    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.fixture
def wave_audience(transactional_db):
    ProgramFactory(send_day=1, send_hour=9, timezone="UTC")
    account = AccountFactory()
    return [ContactFactory(account=account, email=f"c{n}@example.com") for n in range(60)]


def test_two_ticks_at_the_same_instant_create_one_wave_and_one_invitation_each(wave_audience, settings):
    from config.celery import app

    with time_machine.travel(NOW, tick=False):
        run_in_threads(services.tick, count=3)
    assert Wave.objects.count() == 1
    assert Invitation.objects.count() == 60
    assert Invitation.objects.values("contact").distinct().count() == 60
    assert OutgoingEmail.objects.count() == 60
    assert app.conf.task_always_eager
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in wave_audience)


def test_two_senders_racing_for_the_same_rows_send_each_once(wave_audience, monkeypatch):
    # Rows queued and not yet taken by any worker: preparing them dispatches nothing here.
    monkeypatch.setattr(services, "emails_wake", lambda senders=1: None)
    with time_machine.travel(NOW, tick=False):
        services.waves_create_due(NOW)
        services.invitations_prepare_due(NOW)
    ids = list(OutgoingEmail.objects.values_list("pk", flat=True))
    mail.outbox.clear()
    run_in_threads(lambda: emails_send_due(ids=ids), count=4)
    assert len(mail.outbox) == 60
    assert len({m.to[0] for m in mail.outbox}) == 60
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == 60


def test_twenty_concurrent_posts_for_one_link_make_one_response(transactional_db, settings, monkeypatch):
    import time

    from django.test import Client
    from django.urls import reverse

    from surveys.models import Response

    from .factories import InvitationFactory

    settings.ANSWER_RATE_PER_TOKEN = settings.ANSWER_RATE_PER_IP = "1000/m"
    snapshot = answers.response_snapshot

    def slow_snapshot(*args, **kwargs):  # widen the window between "is there a response?" and the insert
        time.sleep(0.05)
        return snapshot(*args, **kwargs)

    monkeypatch.setattr(answers, "response_snapshot", slow_snapshot)
    invitation = InvitationFactory()
    url = reverse("surveys:answer", args=[invitation.token])
    statuses = []
    scores = iter(range(20))
    lock = threading.Lock()

    def post():
        with lock:
            score = next(scores) % 11
        statuses.append(Client().post(url, {"score": score, "reason": f"try {score}"}).status_code)

    run_in_threads(post, count=20)
    assert statuses == [302] * 20  # the first creates, the others edit inside the window
    assert Response.objects.count() == 1
    response = Response.objects.get()
    assert response.reason == f"try {response.score}"  # one post's score and reason, never a mix
