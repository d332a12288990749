"""End to end through a real Celery worker consuming from the real Redis."""

import re
import time

import pytest
from django.conf import settings
from django.core import mail
from rest_framework.test import APIClient

from accounts.services import api_token_create
from surveys.tasks import tick

from .factories import TransactionalProgramFactory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis"), reason="needs Redis"),
]


@pytest.fixture
def worker(transactional_db):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20,
            queues=settings.CELERY_ALL_QUEUES.split(","),
        ):  # fmt: skip
            yield app
    finally:
        app.conf.task_always_eager = True


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_an_event_becomes_an_email_whose_link_opens_the_answer_page(worker, admin_user, client):
    TransactionalProgramFactory(event_types=["ticket_resolved"], product_name="Acme Support")
    _token, key = api_token_create(user=admin_user, name="helpdesk")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post(
        "/api/v1/events/",
        {
            "type": "ticket_resolved",
            "contact": {"email": "pat@example.com", "name": "Pat"},
            "account": {"external_id": "CRM-1", "name": "Example"},
            "occurred_at": "2026-11-22T10:00:00Z",
            "delay_minutes": 0,
        },
        format="json",
    )
    assert response.status_code == 202
    tick.delay()  # what beat does every minute; the worker runs it, then the send task it queues
    assert wait_for(lambda: len(mail.outbox) == 1), "the worker did not deliver the email"
    message = mail.outbox[0]
    assert message.to == ["pat@example.com"]
    link = re.search(r"http://testserver(/s/[0-9a-f]+/)\?score=9", message.body).group(1)
    page = client.get(link + "?score=9")
    assert page.status_code == 200
    assert "How likely are you to recommend Acme Support" in page.content.decode()
    assert 'value="9" checked' in page.content.decode()


def test_a_detractor_answer_is_routed_by_the_worker_after_the_commit(worker, client):
    """The answer request stores the response and returns; the worker, woken after the commit,
    opens the recovery task and mails the CSM."""
    from followups.models import Task
    from surveys.models import Response

    from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, UserFactory

    csm = UserFactory(email="csm.worker@example.com", role="csm")
    contact = ContactFactory(account=AccountFactory(csm=csm, team=csm.team))
    invitation = InvitationFactory(program=ProgramFactory(), contact=contact)
    posted = client.post(f"/s/{invitation.token}/", {"score": 2, "reason": "Too slow"})
    assert posted.status_code == 302
    response = Response.objects.get(invitation=invitation)
    assert wait_for(lambda: Task.objects.filter(response=response, queue="recovery").exists()), "not routed"
    assert wait_for(lambda: any(m.to == [csm.email] for m in mail.outbox)), "the CSM was not mailed"
    response.refresh_from_db()
    assert (response.routed_category, response.routed_at is not None) == ("detractor", True)


def test_a_full_export_is_written_by_the_worker(worker, client, admin_user):
    """The Admin starts an export; the worker writes it in one snapshot (its progress on a second
    connection) and the page offers the zip, whose manifest counts the rows."""
    import io
    import json
    import zipfile

    from integrations.models import ExportJob

    from .factories import ContactFactory, InvitationFactory

    for n in range(5):
        invitation = InvitationFactory(contact=ContactFactory(email=f"c{n}@example.com"))
        assert client.post(f"/s/{invitation.token}/", {"score": n, "reason": "ok"}).status_code == 302
    client.force_login(admin_user)
    assert client.post("/integrations/export/").status_code == 302
    job = ExportJob.objects.get()
    assert wait_for(lambda: ExportJob.objects.filter(pk=job.pk, status="done").exists()), "not written"
    job.refresh_from_db()
    assert job.counts["surveys.response"] == 5 and job.processed_rows == job.total_rows == sum(job.counts.values())
    download = client.get(f"/integrations/export/{job.pk}/download/")
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).read("manifest.json"))
    assert manifest["counts"] == job.counts and manifest["nps"]["relationship"]["responses"] == 5
