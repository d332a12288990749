"""Staff read dates in their own time zone (User.timezone, else their team's), on pages and in emails."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import User
from followups.models import Task

from .factories import InvitationFactory, ProgramFactory, submit_answer

FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the task falls due Saturday 15:00 UTC


def _detractor(contact, django_capture_on_commit_callbacks):
    invitation = InvitationFactory(contact=contact, program=ProgramFactory(), when=FRIDAY - timedelta(days=1))
    with time_machine.travel(FRIDAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        submit_answer(invitation=invitation, score=2, reason="Slow")
    return Task.objects.get()


def test_pages_and_emails_show_times_in_the_readers_zone(client, contact, csm, django_capture_on_commit_callbacks):
    csm.team.timezone = "America/New_York"
    csm.team.save()
    csm.timezone = "Europe/Berlin"
    csm.save()
    task = _detractor(contact, django_capture_on_commit_callbacks)
    (assigned,) = [m for m in mail.outbox if m.to == [csm.email]]
    assert "Nov. 21, 2026, 4 p.m. (Europe/Berlin)" in assigned.body  # 15:00 UTC is 16:00 in Berlin

    client.force_login(csm)
    page = client.get(reverse("followups:task_detail", args=[task.pk])).content.decode()
    assert "due 2026-11-21 16:00" in page and "times in" in page and "Europe/Berlin" in page

    # With no zone of their own, the team's: 10:00 in New York.
    User.objects.filter(pk=csm.pk).update(timezone="")
    page = client.get(reverse("followups:task_detail", args=[task.pk])).content.decode()
    assert "due 2026-11-21 10:00" in page


def test_each_staff_member_sets_their_zone_with_field_errors(client, csm):
    client.force_login(csm)
    url = reverse("accounts:my_settings")
    page = client.get(url).content.decode()
    assert "As my team: UTC" in page
    refused = client.post(url, {"name": "Sam", "timezone": "Mars/Olympus"})
    assert "timezone" in refused.context["form"].errors
    assert client.post(url, {"name": "Sam", "timezone": "Asia/Tokyo"}).status_code == 302
    csm.refresh_from_db()
    assert (csm.name, csm.timezone, str(csm.zone)) == ("Sam", "Asia/Tokyo", "Asia/Tokyo")
    assert "Dates and times show in <strong>Asia/Tokyo</strong>" in client.get(url).content.decode()


def test_a_session_reads_the_user_with_their_team_in_one_query(client, csm, django_assert_num_queries):
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    client.force_login(csm)
    request = RequestFactory().get("/")
    request.session = client.session
    assert request.session["_auth_user_id"] == str(csm.pk)  # the session is read before counting
    with django_assert_num_queries(1):
        user = get_user(request)
        assert (user.team.name, str(user.zone)) == (csm.team.name, "UTC")


def test_the_thank_you_page_promises_what_the_sla_clock_keeps(client, contact, csm):
    """Around the clock: "within 24 hours". With working hours (Mon–Fri 9–17 Berlin), a Detractor
    answering on Friday at 16:00 hears "by Wednesday 25 November": the day the task falls due."""
    invitation = InvitationFactory(contact=contact, program=ProgramFactory(), when=FRIDAY - timedelta(days=1))
    with time_machine.travel(FRIDAY, tick=False):
        submit_answer(invitation=invitation, score=2, reason="Slow")
        page = client.get(reverse("surveys:thanks", args=[invitation.token])).content.decode()
    assert "in touch within 24 hours" in page

    team = csm.team
    team.timezone, team.work_days, team.work_start, team.work_end = "Europe/Berlin", [0, 1, 2, 3, 4], 9, 17
    team.save()
    invitation = InvitationFactory(contact=contact, program=ProgramFactory(), when=FRIDAY - timedelta(days=1))
    with time_machine.travel(FRIDAY, tick=False):  # 16:00 in Berlin
        submit_answer(invitation=invitation, score=2, reason="Slow")
        page = client.get(reverse("surveys:thanks", args=[invitation.token])).content.decode()
    assert "in touch by Wednesday 25 November" in page
    task = Task.objects.get(response__invitation=invitation)
    assert task.due_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 16:00 Berlin, the same clock
