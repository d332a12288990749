"""Admin pages for programs: forms with field errors, preview, test mail, send now, pause."""

from datetime import UTC, datetime

import time_machine
from django.core import mail
from django.urls import reverse

from surveys.models import Program, Wave

from .factories import ContactFactory, ProgramFactory, TransactionalProgramFactory
from .test_cadence import form_data


def test_create_a_relationship_program_with_validation(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("surveys:program_create") + "?stream=relationship")
    assert "How likely are you to recommend {product} to a friend or colleague?" in page.content.decode()
    data = form_data(ProgramFactory.build(), name="", sender_email="nope", send_day=31, timezone="Mars/Base")
    response = client.post(reverse("surveys:program_create") + "?stream=relationship", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"name", "sender_email", "send_day", "timezone"}
    assert Program.objects.count() == 0
    data = form_data(ProgramFactory.build(name="Q survey"))
    response = client.post(reverse("surveys:program_create") + "?stream=relationship", data)
    program = Program.objects.get()
    assert response.url == reverse("surveys:program_detail", args=[program.pk])
    assert program.stream == "relationship"


def test_create_a_transactional_program_needs_unique_event_types(client, admin_user):
    TransactionalProgramFactory(event_types=["ticket_resolved"])
    client.force_login(admin_user)
    base = form_data(ProgramFactory.build(name="Onboarding"))
    for key in ("cadence_months", "send_day", "send_hour", "timezone", "start_date"):
        base.pop(key)
    base.update(delay_minutes=60, cap_window_days=90)
    url = reverse("surveys:program_create") + "?stream=transactional"
    response = client.post(url, {**base, "event_types": "ticket_resolved, onboarding_completed"})
    assert "Already handled by another program: ticket_resolved" in response.content.decode()
    response = client.post(url, {**base, "event_types": "onboarding_completed, milestone_reached"})
    assert response.status_code == 302
    assert Program.objects.get(name="Onboarding").event_types == ["onboarding_completed", "milestone_reached"]


def test_preview_and_test_send(client, admin_user, django_capture_on_commit_callbacks):
    program = ProgramFactory(subject="Hi {first_name}, how is {product}?")
    client.force_login(admin_user)
    preview = client.get(reverse("surveys:program_preview", args=[program.pk])).content.decode()
    assert "Hi Pat, how is Acme Cloud?" in preview
    html = client.get(reverse("surveys:program_preview_html", args=[program.pk]))
    assert "?score=10" in html.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("surveys:program_test_send", args=[program.pk]))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_user.email]
    assert mail.outbox[0].subject.startswith("[Test] Hi ")


def test_the_editor_previews_unsaved_changes_and_saves_nothing(client, admin_user):
    program = ProgramFactory(subject="Old subject", intro="Old intro")
    client.force_login(admin_user)
    editor = client.get(reverse("surveys:program_edit", args=[program.pk])).content.decode()
    assert "data-live-preview" in editor and 'formtarget="email-preview"' in editor
    url = reverse("surveys:program_preview_live") + f"?program={program.pk}"
    data = form_data(program, subject="Quick question about {product}", intro="We <b>read</b> every answer.")
    preview = client.post(url, data)
    html = preview.content.decode()
    assert "Quick question about Acme Cloud" in html and "We &lt;b&gt;read&lt;/b&gt; every answer." in html
    assert "sandbox" in preview["Content-Security-Policy"] and "Still to fix" not in html
    program.refresh_from_db()
    assert (program.subject, program.intro) == ("Old subject", "Old intro")  # nothing saved
    # A field that doesn't validate yet: the preview says so and keeps the saved value for it.
    html = client.post(url, {**data, "sender_email": "not-an-email"}).content.decode()
    assert "Still to fix: Sender email" in html and "Quick question about Acme Cloud" in html
    # A new program, before its first save.
    new = client.post(reverse("surveys:program_preview_live") + "?stream=transactional", data)
    assert new.status_code == 200 and "Quick question about Acme Cloud" in new.content.decode()


def test_send_now_shows_counts_then_starts_the_wave_once(client, admin_user, django_capture_on_commit_callbacks):
    program = ProgramFactory()
    ContactFactory(email="a@example.com")
    ContactFactory(email="b@example.com", unsubscribed_at=datetime(2026, 1, 1, tzinfo=UTC))
    client.force_login(admin_user)
    with time_machine.travel(datetime(2026, 11, 22, 12, tzinfo=UTC), tick=False):
        confirm = client.get(reverse("surveys:wave_send_now", args=[program.pk])).content.decode()
        assert "<strong>1</strong> contact will be invited" in confirm
        assert "Unsubscribed: 1" in confirm
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("surveys:wave_send_now", args=[program.pk]))
        wave = Wave.objects.get()
        assert response.url == reverse("surveys:wave_detail", args=[wave.pk])
        assert (wave.period, wave.started_by, wave.eligible_count) == ("2026-Q4", admin_user, 1)
        # the tick asked for on commit has sent it already: nothing waits "Scheduled" for the next beat
        assert [m.to for m in mail.outbox] == [["a@example.com"]]
        assert not wave.invitations.filter(email__isnull=True).exists()
        again = client.get(reverse("surveys:wave_send_now", args=[program.pk])).content.decode()
        assert "exists already" in again
        client.post(reverse("surveys:wave_send_now", args=[program.pk]))
        assert Wave.objects.count() == 1
        progress = client.get(reverse("surveys:wave_detail", args=[wave.pk])).context["progress"]
    assert progress["eligible"] == 1
    assert progress["skipped"] == 1


def test_pause_and_resume(client, admin_user):
    program = ProgramFactory()
    client.force_login(admin_user)
    client.post(reverse("surveys:program_toggle", args=[program.pk]))
    program.refresh_from_db()
    assert program.is_active is False
    client.post(reverse("surveys:program_toggle", args=[program.pk]))
    program.refresh_from_db()
    assert program.is_active is True


def test_a_test_send_works_end_to_end_and_counts_nowhere(client, admin_user, django_capture_on_commit_callbacks):
    """Send a test to me: the email's links answer, thank and open a task; no figure, list or export sees it."""
    import re

    from followups.models import Task
    from insights import rollups
    from surveys.models import Invitation, Response

    program = ProgramFactory(product_name="Acme Cloud")
    client.force_login(admin_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("surveys:program_test_send", args=[program.pk]))
    (message,) = mail.outbox
    assert message.to == [admin_user.email] and message.subject.startswith("[Test] ")
    link = re.search(r'href="https?://[^/"]+(/s/[0-9a-f]+/)\?score=2"', message.alternatives[0][0]).group(1)
    assert client.get(link + "?score=2").status_code == 200  # the link works
    with django_capture_on_commit_callbacks(execute=True):
        thanks = client.post(link, {"score": 2, "reason": "Trying it out"}, follow=True)
    assert thanks.status_code == 200 and thanks.redirect_chain[-1][0].endswith("/thanks/")
    response = Response.objects.get()
    assert response.is_test and Invitation.objects.get().is_test
    assert Task.objects.filter(response=response).exists()  # the loop runs: a task in the queue
    rollups.refresh()
    dashboard = client.get(reverse("insights:dashboard"), {"period": "year"}).context
    assert dashboard["score"].responses == 0 and dashboard["delivery"]["delivered"] == 0
    assert admin_user.email not in client.get(reverse("customers:contact_list")).content.decode()
    exported = client.get(reverse("insights:export_responses"), {"period": "year"}).getvalue().decode()
    assert "Trying it out" not in exported
    assert "Trying it out" not in client.get(reverse("insights:export_tasks")).getvalue().decode()
    assert client.get(reverse("home")).context["account_count"] == 0
    # the hidden account has no page; the API marks the task a test
    assert client.get(reverse("customers:account_detail", args=[response.account_id])).status_code == 404
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='crm')[1]}")
    assert [t["is_test"] for t in api.get("/api/v1/tasks/").json()["results"]] == [True]
    # and the staff member is never in a wave
    from django.utils import timezone

    from surveys.selectors import eligibility

    assert eligibility(program, timezone.now())[0].count() == 0


def test_the_wave_page_shows_rate_nps_reminders_and_non_responders(
    client, admin_user, django_capture_on_commit_callbacks
):
    from tests.factories import submit_answer

    program = ProgramFactory()
    contacts = [ContactFactory(email=f"c{i}@example.com", name=f"Contact {i}") for i in range(4)]
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("surveys:wave_send_now", args=[program.pk]))
    wave = Wave.objects.get()
    invitations = {i.contact_id: i for i in wave.invitations.all()}
    submit_answer(invitation=invitations[contacts[0].pk], score=10, reason="")
    submit_answer(invitation=invitations[contacts[1].pk], score=3, reason="")
    page = client.get(reverse("surveys:wave_detail", args=[wave.pk]))
    html = page.content.decode()
    assert "Wave NPS" in html and "50 %" in html  # 2 of 4 delivered answered; NPS 0 ± its margin
    assert "2 of 4 delivered" in html
    assert "Contact 2" in html and "Contact 3" in html and "Contact 0" not in html.split("Who has not answered")[1]


def test_the_program_editor_shows_every_field_once_in_its_sections(client, admin_user):
    from surveys.forms import ProgramForm

    for stream in ("relationship", "transactional"):
        form = ProgramForm(stream=stream)
        shown = [bound.name for _title, fields in form.sections for bound in fields]
        assert sorted(shown) == sorted(form.fields)  # nothing dropped, nothing twice
    program = ProgramFactory()
    client.force_login(admin_user)
    page = client.get(reverse("surveys:program_edit", args=[program.pk])).content.decode()
    assert "Who is asked" in page and reverse("surveys:program_preview_html", args=[program.pk]) in page
