"""Insights: the NPS arithmetic, streams kept apart, stable history, exports, the API."""

import csv
import io
import math
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts import scoping
from accounts.services import api_token_create
from customers.models import Segment
from insights import selectors
from insights.export import csv_safe
from insights.filters import filters_from
from insights.nps import Score, benchmark_band, display, significant_change
from surveys.cadence import quarter_start

from .factories import (
    AccountFactory,
    ContactFactory,
    InvitationFactory,
    ProgramFactory,
    TransactionalProgramFactory,
    submit_answer,
)

# The arithmetic


@pytest.mark.parametrize(
    ("promoters", "passives", "detractors", "nps", "margin"),
    [
        (50, 30, 20, 30.0, 1.96 * math.sqrt((0.5 + 0.2 - 0.3**2) / 100) * 100),  # 15.31
        (10, 0, 0, 100.0, 0.0),
        (0, 0, 10, -100.0, 0.0),
        (0, 10, 0, 0.0, 0.0),
        (1, 1, 1, 0.0, 1.96 * math.sqrt((2 / 3) / 3) * 100),
    ],
)
def test_nps_and_margin_by_hand(promoters, passives, detractors, nps, margin):
    score = Score(promoters, passives, detractors)
    assert score.nps == pytest.approx(nps)
    assert score.margin == pytest.approx(margin)


def test_no_responses_no_score():
    assert Score(0, 0, 0).nps is None and Score(0, 0, 0).margin is None and Score(0, 0, 0).shown is None


@pytest.mark.parametrize(("value", "shown"), [(12.5, 13), (-12.5, -13), (12.49, 12), (-0.5, -1), (0.4, 0), (100, 100)])
def test_shown_as_a_whole_number_rounding_half_away_from_zero(value, shown):
    assert display(value) == shown


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_nps_bounds_and_margin_formula(promoters, passives, detractors):
    score = Score(promoters, passives, detractors)
    n = promoters + passives + detractors
    if n == 0:
        assert score.nps is None
        return
    assert -100 <= score.nps <= 100
    p, d = promoters / n, detractors / n
    assert score.nps == pytest.approx((p - d) * 100)
    assert score.margin == pytest.approx(1.96 * math.sqrt(max(p + d - (p - d) ** 2, 0) / n) * 100)
    assert 0 <= score.margin <= 196
    assert -100 <= score.shown <= 100 and abs(score.shown - score.nps) <= 0.5


@given(st.integers(0, 10))
def test_the_cut_offs(score):
    from surveys.models import category_for

    expected = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    assert category_for(score) == expected


def test_a_change_inside_the_margins_is_not_significant():
    assert significant_change(Score(30, 40, 30), Score(33, 40, 27)) is False
    assert significant_change(Score(300, 400, 300), Score(700, 200, 100)) is True


def test_benchmark_bands():
    assert benchmark_band("smb", 24) == "below good"
    assert benchmark_band("smb", 25) == "good"
    assert benchmark_band("enterprise", 59) == "great"
    assert benchmark_band("mid_market", 58) == "world class"


# In the database


def answer(score, *, program=None, account=None, reason="", when=None):
    invitation = InvitationFactory(
        program=program or ProgramFactory(), contact=ContactFactory(account=account or AccountFactory())
    )
    result = submit_answer(invitation=invitation, score=score, reason=reason)
    if when:
        type(result.response).objects.filter(pk=result.response.pk).update(submitted_at=when)
    return result.response


def figures(client, stream, **params):
    return client.get(reverse("insights:dashboard"), {"stream": stream, "period": "year", **params}).context


def test_streams_never_mix(client, admin_user):
    relationship, transactional = ProgramFactory(), TransactionalProgramFactory()
    for score in (10, 9, 3):
        answer(score, program=relationship)
    client.force_login(admin_user)
    before = figures(client, "relationship")["score"]
    for _ in range(5):
        answer(0, program=transactional)
    after = figures(client, "relationship")
    assert after["score"] == before == Score(2, 0, 1)
    assert [row[2] for row in after["table"]] == [Score(2, 0, 1)]
    assert figures(client, "transactional")["score"] == Score(0, 0, 5)
    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.get("/api/v1/nps/", {"stream": "relationship", "period": "year"}).json()["responses"] == 3


def test_history_is_stable_when_an_account_changes_tier(client, admin_user):
    account = AccountFactory(plan_tier="Growth", segment=Segment.SMB)
    answer(2, account=account)
    answer(10, account=account)
    client.force_login(admin_user)
    before = figures(client, "relationship", by="plan_tier")["table"]
    account.plan_tier, account.segment = "Enterprise", Segment.ENTERPRISE
    account.save()
    assert figures(client, "relationship", by="plan_tier")["table"] == before
    assert figures(client, "relationship", plan_tier="Growth")["score"].responses == 2


def test_segments_trend_and_filters_in_the_database(client, admin_user, django_assert_max_num_queries):
    now = timezone.now()
    for score, region, days in [(10, "EMEA", 40), (9, "EMEA", 40), (2, "APAC", 10), (8, "APAC", 10)]:
        answer(score, account=AccountFactory(region=region), when=now - timedelta(days=days))
    client.force_login(admin_user)
    with django_assert_max_num_queries(19):  # 4 of them: how far the rollups reach; 1 the follow-up questions
        context = figures(client, "relationship", by="region", sort="name")
    rows = {label: (s, shown) for _value, label, s, shown, _m in context["table"]}
    assert rows["EMEA"] == (Score(2, 0, 0), 100) and rows["APAC"] == (Score(0, 1, 1), -50)
    assert sum(context["trend"]["rows"][i]["score"].responses for i in range(len(context["trend"]["rows"]))) == 4
    assert figures(client, "relationship", region="APAC")["score"] == Score(0, 1, 1)
    assert [b["count"] for b in context["bars"]] == [0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1]


def test_a_manager_sees_only_their_teams_responses(client, manager, team, other_team):
    answer(10, account=AccountFactory(team=team))
    answer(0, account=AccountFactory(team=other_team))
    client.force_login(manager)
    assert figures(client, "relationship")["score"] == Score(1, 0, 0)


def test_the_api_and_the_dashboard_agree(client, admin_user):
    for score in (10, 10, 9, 8, 7, 6, 0):
        answer(score, reason="r")
    client.force_login(admin_user)
    dashboard = figures(client, "relationship")["score"]
    _, key = api_token_create(user=admin_user, name="bi")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    data = api.get("/api/v1/nps/", {"stream": "relationship", "period": "year"}).json()
    assert data["nps"] == pytest.approx(dashboard.nps) and data["nps"] == pytest.approx(100 * (3 - 2) / 7)
    assert data["margin_of_error"] == pytest.approx(dashboard.margin)
    assert (data["promoters"], data["passives"], data["detractors"], data["responses"]) == (3, 2, 2, 7)
    assert api.get("/api/v1/nps/", {"stream": "both"}).json() == {"stream": ["relationship or transactional"]}
    assert api.get("/api/v1/nps/", {"from": "2026-13-01"}).status_code == 400


def test_the_response_rate_is_responses_over_delivered(db):
    from outbox.models import EmailStatus, OutgoingEmail

    program = ProgramFactory()
    now = timezone.now()
    for n in range(4):
        invitation = InvitationFactory(program=program)
        invitation.email = OutgoingEmail.objects.create(
            key=f"k{n}", kind="survey", to="x@example.com", from_email="a@example.com", subject="s",
            status=EmailStatus.SENT, sent_at=now,
        )  # fmt: skip
        invitation.save()
        if n == 0:
            submit_answer(invitation=invitation, score=9, reason="")
    filters, _ = filters_from({"stream": "relationship", "period": "30d"})
    assert selectors.delivery(scoping.SYSTEM, filters) == {"delivered": 4, "answered": 1, "rate": 0.25}


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
     ("ok", "ok"), (5, "5"), (None, "")],
)  # fmt: skip
def test_csv_cells_that_look_like_formulas_are_neutralised(value, safe):
    assert csv_safe(value) == safe


def test_the_responses_export_neutralises_customer_text(client, admin_user):
    answer(3, reason="=cmd|' /C calc'!A0")
    client.force_login(admin_user)
    response = client.get(reverse("insights:export_responses"), {"stream": "relationship", "period": "year"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["reason"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["score"] == "3"
    tasks = client.get(reverse("insights:export_tasks"))
    assert "'=cmd|" in b"".join(tasks.streaming_content).decode()


# Themes and alerts


def test_reasons_are_tagged_with_themes_when_saved(db):
    from insights.models import Theme

    response = answer(3, reason="Support took days and the invoice was wrong.")
    assert sorted(response.themes.values_list("name", flat=True)) == ["Billing", "Support"]
    assert answer(9, reason="Unsupported browsers").themes.count() == 0  # whole words only (in any form)
    assert answer(9, reason="Supportive team").themes.count() == 1  # "supportive" is a form of "support"
    assert Theme.objects.count() == 8  # seeded: product, support, pricing, onboarding, performance, …


def test_editing_the_taxonomy_retags_in_the_background(client, admin_user, django_capture_on_commit_callbacks):
    from insights.models import Theme

    response = answer(4, reason="The exports crash constantly")
    assert response.themes.count() == 0
    client.force_login(admin_user)
    formset = client.get(reverse("insights:themes")).context["formset"]
    data = {"form-TOTAL_FORMS": len(formset.forms), "form-INITIAL_FORMS": len(formset.forms) - 1}
    for i, form in enumerate(formset.forms):
        theme = form.instance
        data |= {f"form-{i}-id": theme.pk or "", f"form-{i}-name": theme.name or "Reliability",
                 f"form-{i}-keywords": theme.keywords or "crash\ncrashes"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("insights:themes"), data).status_code == 302
    assert list(response.themes.values_list("name", flat=True)) == ["Reliability"]
    assert Theme.objects.filter(name="Reliability").exists()


def test_the_dashboard_title_is_plain_text_and_the_themes_appear_once(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("insights:dashboard"), {"stream": "transactional"}).content.decode()
    assert "<title>Insights · Transactional" in html
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title
    assert html.count("What drives detractors versus promoters") == 1


def test_theme_frequency_by_category_and_its_verbatims(client, admin_user):
    answer(2, reason="Too expensive for what it does")
    answer(3, reason="Price went up again")
    answer(10, reason="Worth the price, great support <3")
    client.force_login(admin_user)
    themes = {t["theme__name"]: t for t in figures(client, "relationship")["themes"]}
    assert (themes["Pricing"]["detractors"], themes["Pricing"]["promoters"]) == (2, 1)
    pricing = themes["Pricing"]["theme_id"]
    page = client.get(reverse("insights:theme_verbatims", args=[pricing]), {"period": "year", "category": "detractor"})
    html = page.content.decode()
    assert "Too expensive" in html and "Worth the price" not in html
    assert page.context["page"].paginator.count == 2 == len(page.context["page"].object_list)
    page = client.get(reverse("insights:theme_verbatims", args=[pricing]), {"period": "year"})
    assert "great support &lt;3" in page.content.decode()
    assert page.context["page"].paginator.count == 3 == len(page.context["page"].object_list)


def test_two_declines_beyond_the_margin_raise_one_alert(
    db, admin_user, manager, team, other_team, django_capture_on_commit_callbacks
):
    """Raised over every team (for Admins) and within the team whose answers fell (its Managers);
    a Manager of another team neither gets the email nor sees the alert."""
    from django.core import mail

    from accounts import scoping
    from insights.models import Alert
    from insights.services import declines_check

    from .factories import UserFactory

    other_manager = UserFactory(email="manager.south@example.com", role="manager", team=other_team)
    now = timezone.now()
    this_quarter = quarter_start(now)
    # Three full quarters before this one: NPS 80 → 0 → -80 in SMB (team North); flat in Enterprise.
    for quarters_back, scores in ((3, [10] * 18 + [7] * 2), (2, [10] * 10 + [3] * 10), (1, [2] * 18 + [8] * 2)):
        when = this_quarter - timedelta(days=92 * quarters_back - 45)
        for s in scores:
            answer(s, account=AccountFactory(segment=Segment.SMB, plan_tier="", region="", industry="", team=team),
                   when=when)  # fmt: skip
            answer(9, account=AccountFactory(segment=Segment.ENTERPRISE, plan_tier="", region="", industry="",
                                             team=other_team), when=when)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        raised = declines_check(now)
        assert declines_check(now) == []  # once per segment, scope and period
    assert {(a.team_id, a.dimension, a.value) for a in raised} == {
        (None, "segment", "smb"),
        (team.pk, "segment", "smb"),
    }
    assert {tuple(a.nps_values) for a in Alert.objects.all()} == {(90, 0, -90)}
    assert any(m.to == [manager.email] and "NPS decline" in m.subject for m in mail.outbox)
    assert any(m.to == [admin_user.email] and "NPS decline" in m.subject for m in mail.outbox)
    assert not any(m.to == [other_manager.email] for m in mail.outbox)
    assert list(scoping.alerts(manager).values_list("team_id", flat=True)) == [team.pk]
    assert not scoping.alerts(other_manager).exists()
    assert scoping.alerts(admin_user).count() == 2


# Accounts, the loop, outcomes


def test_account_nps_coverage_and_accounts_at_risk(client, admin_user, team):
    from customers.models import AccountStatus

    today = timezone.localdate()
    risky = AccountFactory(team=team, renewal_date=today + timedelta(days=30), name="Risky")
    safe = AccountFactory(team=team, renewal_date=today + timedelta(days=200), name="Later")
    boss = ContactFactory(account=risky, decision_maker=True)
    program = ProgramFactory()
    old = InvitationFactory(program=program, contact=boss, when=timezone.now() - timedelta(days=100))
    submit_answer(invitation=old, score=10, reason="")
    from surveys.models import Response

    Response.objects.filter(invitation=old).update(submitted_at=timezone.now() - timedelta(days=100))
    submit_answer(invitation=InvitationFactory(program=program, contact=boss), score=2, reason="")
    submit_answer(invitation=InvitationFactory(program=program, contact=ContactFactory(account=risky)), score=9,
                    reason="")  # fmt: skip
    InvitationFactory(program=program, contact=ContactFactory(account=risky))  # surveyed, not answered
    answer(1, account=safe)
    AccountFactory(team=team, status=AccountStatus.CHURNED)
    client.force_login(admin_user)
    context = client.get(reverse("insights:accounts")).context
    assert [a.name for a in context["at_risk"]] == ["Risky"]
    rows = {a.name: (t, shown) for a, t, shown in context["rows"]}
    risky_row, shown = rows["Risky"]
    assert risky_row["score"] == Score(1, 0, 1) and shown == 0  # latest answer per contact
    assert risky_row["coverage"] == pytest.approx(2 / 3)
    assert risky_row["open_tasks"] == 5  # two promoters' referral + advocacy, one recovery


def test_loop_metrics_per_team(client, admin_user, contact, csm):
    from followups import services as followups
    from followups.models import Outcome, Task

    for score in (1, 2, 3):
        answer(score, account=contact.account)
    tasks = list(Task.objects.order_by("pk"))
    followups.task_log_outreach(task=tasks[0], actor=csm, channel="call")
    Task.objects.filter(pk=tasks[1].pk).update(first_contact_at=tasks[1].due_at + timedelta(hours=1))
    followups.task_close(task=tasks[0], actor=csm, outcome=Outcome.RECOVERED)
    followups.task_close(task=tasks[2], actor=csm, outcome=Outcome.CHURNED)
    client.force_login(admin_user)
    (row,) = client.get(reverse("insights:accounts"), {"period": "30d"}).context["loop"]
    assert (row["name"], row["opened"]) == (csm.team.name, 3)
    assert row["sla_met"] == pytest.approx(1 / 3)
    assert row["recovered_rate"] == pytest.approx(1 / 2)
    assert row["hours_to_contact"] is not None


def test_sla_met_counts_only_decided_tasks_and_outcomes_count_each_account_once(client, admin_user, contact):
    from customers.models import AccountStatus

    answer(1, account=contact.account)  # a recovery task, not contacted, not yet due
    client.force_login(admin_user)
    context = client.get(reverse("insights:accounts"), {"period": "30d"}).context
    (row,) = context["loop"]
    assert row["opened"] == 1 and row["sla_met"] is None  # not "0 %" on a fresh install
    assert "—" in client.get(reverse("insights:accounts")).content.decode()
    two_contacts = AccountFactory(status=AccountStatus.CHURNED)
    answer(2, account=two_contacts)
    answer(10, account=two_contacts)  # the later answer decides the account's row
    AccountFactory(status=AccountStatus.CHURNED)  # never answered
    outcomes = {r["category"]: r for r in client.get(reverse("insights:accounts")).context["outcomes"]}
    assert outcomes["promoter"]["accounts"] == 1 and outcomes["promoter"]["churned"] == 1
    assert outcomes["detractor"]["accounts"] == 1 and outcomes["detractor"]["churned"] == 0
    assert outcomes[None]["accounts"] == 1 and outcomes[None]["churned"] == 1


def test_outcomes_by_category(client, admin_user):
    from customers.models import AccountStatus

    answer(2, account=AccountFactory(status=AccountStatus.CHURNED))
    answer(3, account=AccountFactory())
    answer(10, account=AccountFactory())
    client.force_login(admin_user)
    outcomes = {r["category"]: r for r in client.get(reverse("insights:accounts")).context["outcomes"]}
    assert outcomes["detractor"]["churn_rate"] == pytest.approx(0.5)
    assert outcomes["promoter"]["churn_rate"] == 0


def test_the_account_page_shows_each_contacts_latest_relationship_answer(client, admin_user, account, contact):
    answer(9, account=account, reason="older")
    from surveys.models import Response

    Response.objects.update(submitted_at=timezone.now() - timedelta(days=200))
    submit_answer(invitation=InvitationFactory(contact=contact), score=4, reason="Latest <b>words</b>")
    client.force_login(admin_user)
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert "<strong>4</strong>" in html and "Latest &lt;b&gt;words&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("name", "back", "message"),
    [
        ("insights:dashboard", "insights:dashboard", "Filter ignored: from"),
        ("insights:accounts", "insights:accounts", "Filter ignored: from"),
        ("insights:export_responses", "insights:dashboard", "Export refused: from"),
    ],
)
def test_a_bad_filter_redirects_with_its_message(client, admin_user, name, back, message):
    client.force_login(admin_user)
    page = client.get(reverse(name), {"from": "2026-02-30"})
    assert page.status_code == 302 and page["Location"] == reverse(back)
    assert message in client.get(page["Location"]).content.decode()


def test_a_decline_needs_the_three_last_full_quarters(db):
    from insights.services import declines_check

    now = timezone.now()
    this_quarter = quarter_start(now)
    # Falling over the 2nd, 3rd and 4th quarters back, but nothing in the last full quarter:
    # not a current decline.
    for quarters_back, scores in ((4, [10] * 20), (3, [10] * 10 + [3] * 10), (2, [2] * 20)):
        when = this_quarter - timedelta(days=92 * quarters_back - 45)
        for s in scores:
            answer(s, account=AccountFactory(segment=Segment.SMB, plan_tier="", region="", industry=""), when=when)
    assert declines_check(now) == []


@pytest.mark.django_db
def test_each_contacts_latest_answer_is_kept_as_answers_are_routed(account):
    """LatestAnswer follows routing (newest answer wins, an edit changes the figures through the
    response it points to) and equals a rebuild from scratch."""
    from surveys.answers import latest_answers_rebuild
    from surveys.models import LatestAnswer

    contact = ContactFactory(account=account)
    program = ProgramFactory()
    now = timezone.now()
    first = InvitationFactory(program=program, contact=contact, when=now - timedelta(days=100))
    second = InvitationFactory(program=program, contact=contact, when=now - timedelta(days=10))
    submit_answer(invitation=second, score=3, reason="")
    with time_machine.travel(now - timedelta(days=99)):
        submit_answer(invitation=first, score=10, reason="")  # given earlier, routed later
    assert LatestAnswer.objects.get(contact=contact).response.invitation_id == second.pk
    submit_answer(invitation=second, score=9, reason="")  # an edit inside the window
    table = selectors.account_table(scoping.SYSTEM, [account.pk])
    assert table[account.pk]["score"].promoters == 1
    incremental = set(LatestAnswer.objects.values_list("contact_id", "response_id"))
    assert latest_answers_rebuild() == 1
    assert set(LatestAnswer.objects.values_list("contact_id", "response_id")) == incremental
