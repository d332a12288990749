"""Home is a cockpit per role: what each one acts on first, from the same scoped figures as the pages."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from customers.models import AccountStatus
from followups.models import Task
from outbox.models import EmailStatus, OutgoingEmail

from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, submit_answer


def answer(score, account, reason=""):
    invitation = InvitationFactory(program=ProgramFactory(), contact=ContactFactory(account=account))
    return submit_answer(invitation=invitation, score=score, reason=reason).response


def test_a_csm_sees_their_tasks_overdue_first_their_verbatims_and_renewals_at_risk(
    client, csm, other_csm, team, django_assert_max_num_queries
):
    mine = AccountFactory(team=team, csm=csm, renewal_date=timezone.localdate() + timedelta(days=30))
    answer(5, mine, reason="Exports <b>time out</b>")
    answer(1, mine, reason="Nobody called back")
    late = Task.objects.get(response__score=5)
    Task.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=3))
    answer(2, AccountFactory(team=other_csm.team, csm=other_csm), reason="Someone else's")
    for contact in ContactFactory.create_batch(2, account=mine, decision_maker=True):
        submit_answer(invitation=InvitationFactory(contact=contact), score=3, reason="")
    client.force_login(csm)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("home"))
    tasks = list(page.context["tasks"])
    assert tasks[0].pk == late.pk and tasks[0].late  # overdue first, then urgent
    assert {t.response.score for t in tasks} == {5, 1, 3}
    html = page.content.decode()
    assert "overdue by" in html and "Exports &lt;b&gt;time out&lt;/b&gt;" in html
    assert "Someone else" not in html
    assert [a.pk for a in page.context["at_risk"]] == [mine.pk]
    assert "streams" not in page.context  # a CSM's home is their work, not the company's score


def test_a_manager_sees_the_teams_score_sla_and_overdue_by_csm(client, manager, csm, team, other_team):
    account = AccountFactory(team=team, csm=csm)
    for score in (10, 9, 2):
        answer(score, account)
    answer(0, AccountFactory(team=other_team))
    Task.objects.filter(response__score=2).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(manager)
    page = client.get(reverse("home"))
    relationship = next(f for f in page.context["streams"] if f.stream == "relationship")
    assert (relationship.score.responses, relationship.shown) == (3, 33)  # the other team's 0 is not theirs
    assert page.context["overdue"] == [{"name": csm.name, "n": 1, "urgent": 1}]
    assert page.context["loop"][0]["sla_met"] == 0.0  # due without contact: decided, and missed


def test_an_admin_sees_both_streams_next_waves_and_delivery_problems(client, admin_user):
    program = ProgramFactory(name="Quarterly pulse")
    account = AccountFactory(status=AccountStatus.ACTIVE)
    ContactFactory(account=account, bounced_at=timezone.now())
    OutgoingEmail.objects.create(to="x@example.com", subject="s", body_text="b", status=EmailStatus.FAILED,
                                 kind="survey", key="failed-1")  # fmt: skip
    client.force_login(admin_user)
    page = client.get(reverse("home"))
    assert [f.stream for f in page.context["streams"]] == ["relationship", "transactional"]
    assert [w["program"] for w in page.context["waves"]] == [program]
    assert page.context["problems"] == {"failed": 1, "bounced": 1, "complained": 0}
    assert "Quarterly pulse" in page.content.decode()


def test_the_account_page_is_the_loop_around_the_account(client, csm, team, django_assert_max_num_queries):
    from followups import services as followups

    account = AccountFactory(team=team, csm=csm, renewal_date=timezone.localdate() + timedelta(days=40), arr=20800)
    quiet = ContactFactory(account=account, name="Quiet Quentin")
    detractor = answer(2, account, reason="Exports <i>time out</i>")
    answer(10, account, reason="Great support")
    task = Task.objects.get(response=detractor)
    followups.task_log_outreach(task=task, actor=csm, channel="call")
    client.force_login(csm)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("customers:account_detail", args=[account.pk]))
    loop = page.context["loop"]
    assert (loop["relationship"].responses, loop["relationship"].shown) == (2, 0)
    assert [c.pk for c in loop["never_answered"]] == [quiet.pk]
    assert next(t for t in loop["open_tasks"] if t.pk == task.pk).outreach == 1
    html = page.content.decode()
    assert "Exports &lt;i&gt;time out&lt;/i&gt;" in html and "USD 20,800" in html and "Quiet Quentin" in html
    assert "-Q" in html  # the quarterly trend, labelled 2026-Q4


def test_the_contact_page_shows_invitations_answers_tasks_and_why_not_surveyed(client, csm, team):
    account = AccountFactory(team=team, csm=csm)
    response = answer(3, account, reason="Slow")
    contact = response.contact
    client.force_login(csm)
    page = client.get(reverse("customers:contact_detail", args=[contact.pk]))
    loop = page.context["loop"]
    assert [r.pk for r in loop["answers"]] == [response.pk]
    assert len(loop["invitations"]) == 1 and loop["tasks"][0].response_id == response.pk
    # just answered: every active program waits out the quiet period, and the page says so
    assert page.context["why_not"] and "quiet period" in page.content.decode()


def test_money_reads_as_money(settings):
    from customers.templatetags.customers import money

    settings.CURRENCY = "€"
    assert money("17600.00") == "€ 17,600" and money(None) == "—" and money(0) == "€ 0"
