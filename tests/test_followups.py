"""Closing the loop: routing, SLA clocks, escalation, the queues, the loop email, the API."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from customers.models import Segment
from followups import services
from followups.models import EventKind, Outcome, Queue, SlaPolicy, Task, TaskStatus
from surveys import services as survey_services
from surveys.models import Invitation

from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, submit_answer

# Emails are queued on commit: these tests commit, as the app does.
pytestmark = pytest.mark.django_db(transaction=True)

# A Friday, 16:00 in Berlin (15:00 UTC in November).
FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def answer(contact, score, reason="", when=FRIDAY, program=None):
    invitation = InvitationFactory(contact=contact, program=program or ProgramFactory(), when=when - timedelta(days=1))
    with time_machine.travel(when, tick=False):
        return submit_answer(invitation=invitation, score=score, reason=reason).response


def test_a_detractor_opens_a_recovery_task_for_the_csm_due_within_the_sla(contact, csm):
    response = answer(contact, 5, "Too slow")
    task = Task.objects.get()
    assert (task.queue, task.status, task.assignee, task.team) == (Queue.RECOVERY, "open", csm, csm.team)
    assert task.due_at == FRIDAY + timedelta(hours=24)
    assert task.urgent is False
    assert task.response == response
    assert [e.kind for e in task.events.all()] == [EventKind.CREATED, EventKind.ASSIGNED]
    assigned = [m for m in mail.outbox if m.to == [csm.email]]
    assert len(assigned) == 1 and "Too slow" in assigned[0].body


@pytest.mark.parametrize(("score", "urgent"), [(0, True), (3, True), (4, False), (6, False)])
def test_scores_0_to_3_are_urgent(contact, score, urgent):
    answer(contact, score)
    assert Task.objects.get().urgent is urgent


def test_a_passive_gets_a_check_in_due_in_five_business_days(contact):
    answer(contact, 7)
    task = Task.objects.get()
    assert task.queue == Queue.CHECKIN
    assert task.due_at == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday → next Friday


def test_a_promoter_goes_to_the_referral_and_advocacy_queues(contact):
    answer(contact, 10)
    assert sorted(Task.objects.values_list("queue", flat=True)) == [Queue.ADVOCACY, Queue.REFERRAL]
    assert {t.due_at for t in Task.objects.all()} == {FRIDAY + timedelta(days=7)}


def test_an_account_without_a_csm_goes_to_the_team_queue(team):
    contact = ContactFactory(account=AccountFactory(team=team, csm=None))
    answer(contact, 2)
    task = Task.objects.get()
    assert task.assignee is None and task.team == team


def test_the_segment_policy_sets_the_detractor_sla(team):
    SlaPolicy.objects.create(segment=Segment.ENTERPRISE, detractor_hours=8)
    answer(ContactFactory(account=AccountFactory(team=team, segment=Segment.ENTERPRISE)), 1)
    assert Task.objects.get().due_at == FRIDAY + timedelta(hours=8)


def test_the_policy_stays_between_4_and_48_hours(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.create(segment=Segment.SMB, detractor_hours=72)


def test_the_sla_clock_counts_business_hours_where_the_team_sets_them(contact, team):
    team.timezone, team.work_days, team.work_start, team.work_end = "Europe/Berlin", [0, 1, 2, 3, 4], 9, 17
    team.save()
    answer(contact, 4)  # Friday 16:00 Berlin: 1 h on Friday, 8 h Mon, 8 h Tue, 7 h Wed
    assert Task.objects.get().due_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday 16:00 Berlin


def test_a_changed_score_reroutes_and_supersedes(contact):
    invitation = InvitationFactory(contact=contact, when=FRIDAY - timedelta(days=1))
    with time_machine.travel(FRIDAY, tick=False):
        submit_answer(invitation=invitation, score=2, reason="Bad")
    with time_machine.travel(FRIDAY + timedelta(hours=2), tick=False):
        submit_answer(invitation=invitation, score=9, reason="Actually fine")
        submit_answer(invitation=invitation, score=10, reason="Great")  # same category: no change
    recovery = Task.objects.get(queue=Queue.RECOVERY)
    assert recovery.status == TaskStatus.SUPERSEDED
    assert recovery.events.filter(kind=EventKind.SUPERSEDED).exists()
    assert sorted(Task.objects.open().values_list("queue", flat=True)) == [Queue.ADVOCACY, Queue.REFERRAL]


def test_never_two_open_tasks_of_one_kind_for_one_response(contact):
    response = answer(contact, 3)
    task = Task.objects.get()
    duplicate = Task(
        response=response, queue=Queue.RECOVERY, account=task.account, contact=task.contact, due_at=task.due_at
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert services.route_response(response=response) == []  # routing again opens nothing


def test_the_first_outreach_is_the_first_contact_and_decides_the_sla(contact, csm):
    answer(contact, 3)
    task = Task.objects.get()
    with time_machine.travel(FRIDAY + timedelta(hours=5), tick=False):
        services.task_log_outreach(task=task, actor=csm, channel="call", note="Left a voicemail")
    with time_machine.travel(FRIDAY + timedelta(hours=30), tick=False):
        services.task_log_outreach(task=task, actor=csm, channel="email")
    task.refresh_from_db()
    assert task.first_contact_at == FRIDAY + timedelta(hours=5)
    assert task.sla_met is True
    assert task.events.filter(kind=EventKind.OUTREACH).count() == 2


def test_a_breached_task_escalates_once_to_the_assignee_and_the_manager(contact, csm, manager):
    answer(contact, 1)
    mail.outbox.clear()
    with time_machine.travel(FRIDAY + timedelta(hours=23), tick=False):
        assert services.tick()["escalated"] == 0
    with time_machine.travel(FRIDAY + timedelta(hours=25), tick=False):
        assert services.tick()["escalated"] == 1
        assert services.tick()["escalated"] == 0  # a second tick does nothing more
    with time_machine.travel(FRIDAY + timedelta(hours=48), tick=False):
        assert services.tick()["escalated"] == 0
    task = Task.objects.get()
    assert task.escalated_at == FRIDAY + timedelta(hours=25)
    assert task.sla_met is False
    assert task.events.filter(kind=EventKind.ESCALATED).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([csm.email, manager.email])
    assert all(m.subject.startswith("SLA breached") for m in mail.outbox)


def test_a_task_contacted_in_time_never_escalates(contact, csm):
    answer(contact, 1)
    task = Task.objects.get()
    with time_machine.travel(FRIDAY + timedelta(hours=2), tick=False):
        services.task_log_outreach(task=task, actor=csm, channel="meeting")
    with time_machine.travel(FRIDAY + timedelta(hours=30), tick=False):
        assert services.tick()["escalated"] == 0


def test_closing_needs_an_outcome_of_the_queue(contact, csm):
    answer(contact, 4)
    task = Task.objects.get()
    with pytest.raises(services.TaskError):
        services.task_close(task=task, actor=csm, outcome=Outcome.REVIEW_POSTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status=TaskStatus.CLOSED)
    services.task_close(task=task, actor=csm, outcome=Outcome.NO_REPLY)
    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.CLOSED, Outcome.NO_REPLY)
    with pytest.raises(services.TaskError, match="closed"):
        services.task_log_outreach(task=task, actor=csm, channel="call")
    with pytest.raises(services.TaskError, match="closed"):
        services.task_add_note(task=task, actor=csm, text="late")


def test_the_close_the_loop_email_goes_through_the_outbox(client, contact, csm):
    answer(contact, 5)
    task = Task.objects.get()
    client.force_login(csm)
    form = client.get(reverse("followups:task_email", args=[task.pk])).content.decode()
    assert "Hi Pat," in form and csm.get_full_name() in form and "[[" in form
    mail.outbox.clear()
    page = client.post(
        reverse("followups:task_email", args=[task.pk]),
        {"subject": "We fixed it", "body": "Hi Pat,\n\nWe fixed <the> export.\n\nCasey"},
    )
    assert page.status_code == 302
    (message,) = mail.outbox
    assert message.to == [contact.email]
    assert message.subject == "We fixed it"
    assert "We fixed <the> export." in message.body
    assert "We fixed &lt;the&gt; export." in message.alternatives[0][0]
    assert message.extra_headers["Reply-To"] == csm.email
    assert task.events.filter(kind=EventKind.EMAIL, actor=csm).count() == 1


def test_a_draft_with_an_unfilled_blank_is_refused_field_by_field(client, contact, csm):
    answer(contact, 2)
    task = Task.objects.get()
    client.force_login(csm)
    url = reverse("followups:task_email", args=[task.pk])
    draft = client.get(url).context["form"].initial
    assert "[[" in draft["body"] and "{" not in draft["body"]  # merge fields filled, the blank left to write
    mail.outbox.clear()
    page = client.post(url, draft)
    assert page.status_code == 200 and not mail.outbox
    assert "with your own words before sending" in page.context["form"].errors["body"][0]
    assert not task.events.filter(kind=EventKind.EMAIL).exists()
    with pytest.raises(services.TaskError, match="own words"):  # the service refuses it too (API, imports)
        services.loop_email_send(task=task, actor=csm, subject="Hi", body="Here is what we did: [[fill me]]")
    filled = {**draft, "body": draft["body"].replace(draft["body"][draft["body"].index("[[") :], "We called you.")}
    assert client.post(url, filled).status_code == 302 and len(mail.outbox) == 1


def test_admins_edit_the_close_the_loop_templates(client, admin_user, contact, csm):
    from followups.models import LoopTemplate

    client.force_login(admin_user)
    page = client.get(reverse("followups:loop_templates"))
    forms = page.context["formset"].forms
    assert [f.instance.queue for f in forms] == ["advocacy", "checkin", "recovery", "referral"]
    data = {"form-TOTAL_FORMS": "4", "form-INITIAL_FORMS": "4"}
    for i, form in enumerate(forms):
        data |= {f"form-{i}-id": form.instance.pk, f"form-{i}-subject": form.instance.subject,
                 f"form-{i}-body": form.instance.body}  # fmt: skip
    recovery = [f.instance.queue for f in forms].index("recovery")
    refused = client.post(reverse("followups:loop_templates"), {**data, f"form-{recovery}-body": "Hi {firstname}"})
    assert "Unknown merge field {firstname}" in refused.content.decode()
    body = "Dear {first_name} at {account}, you gave us {score}. [[what we did]]"
    assert client.post(reverse("followups:loop_templates"), {**data, f"form-{recovery}-body": body}).status_code == 302
    assert LoopTemplate.objects.get(queue="recovery").body == body
    answer(contact, 4)
    client.force_login(csm)
    draft = client.get(reverse("followups:task_email", args=[Task.objects.get().pk])).context["form"].initial
    assert draft["body"] == f"Dear Pat at {contact.account.name}, you gave us 4. [[what we did]]"


def test_the_daily_digest_goes_once_a_day(contact, csm):
    csm.daily_digest = True
    csm.save()
    answer(contact, 3)
    mail.outbox.clear()
    with time_machine.travel(datetime(2026, 11, 21, 6, 0, tzinfo=UTC), tick=False):
        assert services.tick()["digests"] == 0  # before 7:00
    with time_machine.travel(datetime(2026, 11, 21, 8, 0, tzinfo=UTC), tick=False):
        assert services.tick()["digests"] == 1
        assert services.tick()["digests"] == 0
    (digest,) = [m for m in mail.outbox if m.subject.startswith("Your follow-ups")]
    assert "1 open task" in digest.body


def test_a_recovered_detractor_is_asked_again_and_the_new_score_confirms_it(client, contact, csm):
    program = ProgramFactory(reask_after_days=30)
    answer(contact, 2, program=program)
    task = Task.objects.get()
    with time_machine.travel(FRIDAY + timedelta(days=2), tick=False):
        services.task_close(task=task, actor=csm, outcome=Outcome.RECOVERED)
    task.refresh_from_db()
    reask = task.reask_invitation
    assert reask.send_at == FRIDAY + timedelta(days=32)
    assert task.confirmed_recovery is None
    mail.outbox.clear()
    with time_machine.travel(FRIDAY + timedelta(days=32, minutes=1), tick=False):
        survey_services.tick()
    assert [m.to for m in mail.outbox] == [[contact.email]]
    with time_machine.travel(FRIDAY + timedelta(days=33), tick=False):
        client.post(reverse("surveys:answer", args=[Invitation.objects.get(pk=reask.pk).token]), {"score": "9"})
    task = Task.objects.get(pk=task.pk)
    assert task.confirmed_recovery is True


# The web UI and its permissions


def test_a_csm_works_a_task_from_the_web_ui(client, contact, csm):
    answer(contact, 3)
    task = Task.objects.get()
    client.force_login(csm)
    page = client.get(reverse("followups:my_tasks"))
    assert page.status_code == 200 and contact.account.name in page.content.decode()
    client.post(reverse("followups:task_outreach", args=[task.pk]), {"channel": "call", "note": "Talked"})
    client.post(reverse("followups:task_note", args=[task.pk]), {"text": "<script>x</script>"})
    refused = client.post(reverse("followups:task_close", args=[task.pk]), {"outcome": ""}, follow=True)
    assert "Closing a task needs an outcome." in refused.content.decode()
    client.post(reverse("followups:task_close", args=[task.pk]), {"outcome": "recovered", "detail": "Fixed"})
    task.refresh_from_db()
    assert task.status == "closed" and task.first_contact_at is not None
    html = client.get(reverse("followups:task_detail", args=[task.pk])).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    assert [e.kind for e in task.events.all()] == ["created", "assigned", "outreach", "note", "closed"]


def test_another_teams_csm_cannot_see_or_touch_a_task(client, contact, other_csm):
    answer(contact, 3)
    task = Task.objects.get()
    client.force_login(other_csm)
    assert client.get(reverse("followups:task_detail", args=[task.pk])).status_code == 404
    assert client.post(reverse("followups:task_close", args=[task.pk]), {"outcome": "churned"}).status_code == 404
    assert contact.account.name not in client.get(reverse("followups:queue")).content.decode()
    assert Task.objects.get().status == "open"


def test_a_manager_bulk_assigns_and_a_csm_may_not(client, team, csm, manager):
    contacts = [ContactFactory(account=AccountFactory(team=team, csm=None)) for _ in range(3)]
    for c in contacts:
        answer(c, 2)
    ids = [str(pk) for pk in Task.objects.values_list("pk", flat=True)]
    client.force_login(csm)
    assert client.post(reverse("followups:bulk_assign"), {"task": ids, "assignee": csm.pk}).status_code == 403
    client.force_login(manager)
    Task.objects.filter(pk=ids[0]).update(status=TaskStatus.CLOSED, outcome=Outcome.NO_REPLY)
    page = client.post(reverse("followups:bulk_assign"), {"task": ids, "assignee": csm.pk}, follow=True)
    assert set(Task.objects.filter(status=TaskStatus.OPEN).values_list("assignee", flat=True)) == {csm.pk}
    assert f"Assigned 2 tasks to {csm}. 1 closed task left unchanged." in page.content.decode()
    page = client.post(reverse("followups:bulk_assign"), {"task": ids[:1], "assignee": csm.pk}, follow=True)
    assert "Nothing assigned: every ticked task is closed." in page.content.decode()  # not a success


def test_the_queue_shows_the_verbatim_with_human_labels_and_select_all(client, team, manager):
    contact = ContactFactory(account=AccountFactory(team=team, csm=None, segment="mid_market"), name="Ada Lovelace")
    answer(contact, 3, reason="Exports <b>time out</b> every Monday")
    client.force_login(manager)
    html = client.get(reverse("followups:queue")).content.decode()
    assert "“Exports &lt;b&gt;time out&lt;/b&gt; every Monday”" in html
    rows = html.split("<tbody>")[1]
    assert "Ada Lovelace" in rows and "· Mid-Market" in rows and "mid_market" not in rows
    assert 'data-select-all="task"' in html and "stretched-link" in html
    assert "Recovery · Open" in html


def test_the_queue_filters_and_sorts_by_due_time(client, team, manager, django_assert_max_num_queries):
    for score in (1, 5, 7):
        answer(ContactFactory(account=AccountFactory(team=team, csm=None)), score)
    client.force_login(manager)
    page = client.get(reverse("followups:queue"), {"queue": "recovery", "urgency": "urgent"})
    assert len(page.context["page"].object_list) == 1
    page = client.get(reverse("followups:queue"), {"status": "open"})
    dues = [t.due_at for t in page.context["page"].object_list]
    assert dues == sorted(dues) and len(dues) == 3
    with time_machine.travel(FRIDAY + timedelta(hours=30), tick=False):
        page = client.get(reverse("followups:queue"), {"overdue": "on"})
    assert [t.queue for t in page.context["page"].object_list] == [Queue.RECOVERY, Queue.RECOVERY]
    with django_assert_max_num_queries(12):
        client.get(reverse("followups:queue"))


def test_the_queue_pages_in_due_order_and_links_every_task(client, team, manager, monkeypatch):
    monkeypatch.setattr("followups.views.PAGE_SIZE", 2)  # five tasks, three pages
    for score in (1, 5, 7, 2, 9):
        answer(ContactFactory(account=AccountFactory(team=team, csm=None)), score)
    expected = list(Task.objects.order_by("due_at", "pk").values_list("pk", flat=True))
    client.force_login(manager)
    shown = []
    for number in (1, 2, 3):
        page = client.get(reverse("followups:queue"), {"page": number})
        rows = page.context["page"].object_list
        shown += [task.pk for task in rows]
        html = page.content.decode()
        assert all(f'href="{reverse("followups:task_detail", args=[task.pk])}"' in html for task in rows)
    assert shown == expected  # keys first, then the rows: the same order, nothing twice or skipped
    last = client.get(reverse("followups:queue"), {"page": 99}).context["page"]
    assert last.number == 3 and [task.pk for task in last.object_list] == expected[4:]


def test_admins_edit_sla_policies_in_the_ui(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("followups:sla_policies"))
    assert page.status_code == 200
    formset = page.context["formset"]
    data = {"form-TOTAL_FORMS": len(formset.forms), "form-INITIAL_FORMS": len(formset.forms)}
    for i, form in enumerate(formset.forms):
        data |= {
            f"form-{i}-id": form.instance.pk, f"form-{i}-segment": form.instance.segment,
            f"form-{i}-detractor_hours": 72 if form.instance.segment == Segment.SMB else 24,
            f"form-{i}-passive_business_days": 5, f"form-{i}-promoter_days": 7,
        }  # fmt: skip
    refused = client.post(reverse("followups:sla_policies"), data)
    assert refused.status_code == 200
    assert "Ensure this value is less than or equal to 48." in refused.content.decode()
    data[next(k for k, v in data.items() if v == 72)] = 12
    assert client.post(reverse("followups:sla_policies"), data).status_code == 302
    assert SlaPolicy.objects.get(segment=Segment.SMB).detractor_hours == 12


# The API


def test_the_tasks_api_lists_filters_and_scopes(contact, other_contact, csm, other_csm):
    answer(contact, 2, "Slow")
    answer(other_contact, 9)
    _, key = api_token_create(user=csm, name="crm")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    listing = api.get("/api/v1/tasks/").json()
    assert len(listing["results"]) == 1 and listing["next"] is None  # cursor pages
    (task,) = listing["results"]
    assert (task["queue"], task["category"], task["score"], task["reason"]) == ("recovery", "detractor", 2, "Slow")
    assert task["account"] == contact.account.external_id and task["assignee"] == csm.email
    assert {"due_at", "first_contact_at", "outcome", "status", "urgent"} <= set(task)
    assert len(api.get("/api/v1/tasks/", {"account": "nope"}).json()["results"]) == 0
    assert len(api.get("/api/v1/tasks/", {"account": contact.account.external_id}).json()["results"]) == 1
    assert api.get("/api/v1/tasks/", {"queue": "bogus"}).status_code == 400
    detail = api.get(f"/api/v1/tasks/{task['id']}/").json()
    assert [e["kind"] for e in detail["timeline"]] == ["created", "assigned"]
    other_task = Task.objects.get(contact=other_contact, queue="referral")
    assert api.get(f"/api/v1/tasks/{other_task.pk}/").status_code == 404
    _, other_key = api_token_create(user=other_csm, name="crm")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")
    assert len(api.get("/api/v1/tasks/").json()["results"]) == 2
    with time_machine.travel(FRIDAY + timedelta(hours=30), tick=False):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert len(api.get("/api/v1/tasks/", {"overdue": "true"}).json()["results"]) == 1


def test_the_page_the_csv_and_the_api_filter_tasks_alike(client, team, manager):
    """One FilterSet (followups/filters.py): the same query string picks the same tasks everywhere."""
    for score in (1, 2, 7, 9):
        answer(ContactFactory(account=AccountFactory(team=team, csm=None, segment="smb")), score)
    answer(ContactFactory(account=AccountFactory(team=team, csm=None, segment="enterprise")), 3)
    query = {"queue": "recovery", "segment": "smb", "status": "open"}
    expected = set(
        Task.objects.filter(queue="recovery", account__segment="smb", status="open").values_list("pk", flat=True)
    )
    assert len(expected) == 2
    client.force_login(manager)
    page = client.get(reverse("followups:queue"), query)
    assert {t.pk for t in page.context["page"].object_list} == expected
    csv_lines = b"".join(client.get(reverse("insights:export_tasks"), query).streaming_content).decode().splitlines()
    assert {int(line.split(",")[0]) for line in csv_lines[1:]} == expected
    _, key = api_token_create(user=manager, name="crm")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert {t["id"] for t in api.get("/api/v1/tasks/", query).json()["results"]} == expected
    # A bad value: the page ignores that filter and says so; the API answers 400 naming the field.
    page = client.get(reverse("followups:queue"), {"queue": "bogus", "segment": "smb"})
    assert "Some filters were ignored: queue: Select a valid choice." in page.content.decode()
    # every smb task in any queue (two recovery, a check-in, referral and advocacy for the 9)
    assert len(page.context["page"].object_list) == 5
    refused = api.get("/api/v1/tasks/", {"assignee": "99999"})
    assert refused.status_code == 400 and "assignee" in refused.json()


def test_admins_set_a_teams_business_hours(client, admin_user, team):
    client.force_login(admin_user)
    url = reverse("accounts:team_edit", args=[team.pk])
    data = {"name": team.name, "timezone": "Europe/Berlin", "work_days": ["0", "1", "2", "3", "4"]}
    refused = client.post(url, {**data, "work_start": 17, "work_end": 9})
    assert "The working day must end after it starts." in refused.content.decode()
    assert client.post(url, {**data, "work_start": 8, "work_end": 16}).status_code == 302
    team.refresh_from_db()
    assert (team.work_days, team.work_start, team.work_end, team.has_business_hours) == ([0, 1, 2, 3, 4], 8, 16, True)


def test_a_csm_name_with_a_comma_is_one_sender(contact, csm, django_capture_on_commit_callbacks):
    from email.utils import getaddresses

    csm.name = "John Smith, Jr."
    csm.save()
    answer(contact, 5)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.loop_email_send(task=Task.objects.get(), actor=csm, subject="Hello", body="We heard you.")
    (message,) = mail.outbox
    sender = message.message()["From"]
    assert getaddresses([sender]) == [("John Smith, Jr.", "nps@localhost")]


@pytest.mark.django_db
def test_a_customer_changing_their_score_mails_the_csm_at_most_once_an_hour(csm, contact, settings):
    """2 → 8 → 3 → 9 → 1 inside the edit window: each change to Detractor opens a recovery task
    (the CSM sees it), but only one assignment email goes out per response per hour."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from outbox.models import OutgoingEmail

    from .factories import InvitationFactory, ProgramFactory

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    program = ProgramFactory(edit_window_hours=48)
    invitation = InvitationFactory(program=program, contact=contact)
    start = timezone.now()
    for minutes, score in ((0, 2), (5, 8), (10, 3), (15, 9), (20, 1)):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            submit_answer(invitation=invitation, score=score, reason="")
    response = invitation.response
    assert response.tasks.filter(queue="recovery").count() == 3  # every Detractor answer has its task
    assert OutgoingEmail.objects.filter(kind="task_assigned").count() == 1
    with time_machine.travel(start + timedelta(minutes=90), tick=False):
        submit_answer(invitation=invitation, score=9, reason="")
        submit_answer(invitation=invitation, score=0, reason="")
    assert OutgoingEmail.objects.filter(kind="task_assigned").count() == 2  # an hour later, one more
