"""Verbatim intelligence and detractor risk (issue 16): measured against the labelled set in
tests/data, and end to end through answers, pages, the API and the commands."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create
from customers.models import Contact
from followups.models import Queue, Task
from insights import discovery, drivers, risk
from insights.models import (
    Discovery,
    RiskModel,
    RiskScore,
    RiskStatus,
    Suggestion,
    SuggestionStatus,
    Tag,
    Theme,
    ThemeExample,
)
from insights.selectors import Filters
from insights.services import responses_retag
from insights.tagging import Tagger
from insights.text import sentiment
from insights.vectors import backend
from surveys.models import Category, Invitation, Response, Stream, Wave, category_for

from . import verbatim_eval as ev
from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, UserFactory, submit_answer

# Floors measured on the measuring half of tests/data/verbatims.csv (the closing note of issue 16
# gives the figures): a change that makes either worse fails here.
SENTIMENT_ACCURACY_FLOOR = 0.80  # measured 0.82
TAGGING_PRECISION_FLOOR = 0.88  # measured 0.914 (keywords alone, stemmed) / 0.904 (with examples)
TAGGING_RECALL_FLOOR = 0.83  # measured 0.85


# Measured on the labelled set ---------------------------------------------------------------------


def test_the_labelled_set_is_split_in_halves_that_never_mix():
    tune, test = ev.rows("tune"), ev.rows("test")
    assert len(tune) == len(test) == 100
    assert not {r.id for r in tune} & {r.id for r in test}
    assert {r.lang for r in test} == {"en", "de"}


def test_sentiment_accuracy_on_the_measuring_half():
    rows = ev.rows("test")
    right = sum(sentiment(r.text, r.lang).label == r.sentiment for r in rows)
    assert right / len(rows) >= SENTIMENT_ACCURACY_FLOOR


@pytest.mark.parametrize("engine", ["words", "wordllama"])
def test_tagging_beats_the_old_keyword_matcher_on_the_measuring_half(engine):
    taxonomy, tune, test = ev.seeded_taxonomy(), ev.rows("tune"), ev.rows("test")
    truth = [r.themes for r in test]
    old = ev.scores(ev.keyword_matcher(taxonomy, [r.text for r in test]), truth)
    new = ev.scores(ev.tagger_predictions(taxonomy, tune, test, backend=backend(engine)), truth)
    assert new["precision"] >= TAGGING_PRECISION_FLOOR
    assert new["recall"] >= TAGGING_RECALL_FLOOR
    assert new["f1"] > old["f1"]
    assert new["recall"] > old["recall"]


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("Support is not slow at all.", "en", "positive"),
        ("No complaints, it just works.", "en", "positive"),
        ("Lohnt sich nicht.", "de", "negative"),
        ("Der Support war überhaupt nicht hilfreich.", "de", "negative"),
        ("Great product, but the price is way too high and billing is a mess.", "en", "negative"),
        ("We use it for reporting.", "en", "neutral"),
    ],
)
def test_sentiment_reads_negation_contrast_and_german(text, lang, label):
    assert sentiment(text, lang).label == label


def test_tags_say_why_and_handle_inflections_compounds_and_negation():
    from insights.tagging import Rule

    tagger = Tagger(
        [Rule(1, ("invoice",)), Rule(2, ("slow",)), Rule(3, ("support",)), Rule(4, ("helpful",))], [],
        backend=backend("words"),
    )  # fmt: skip
    (billing,) = tagger.tag("Our invoicing is a mess and two invoices were wrong.", "en")
    assert (billing.theme_id, billing.how, billing.why["keyword"]) == (1, "keyword", "invoice")
    assert [m.theme_id for m in tagger.tag("Unsere Supportanfragen bleiben liegen.", "de")] == [3]
    assert tagger.tag("The app is not slow at all.", "en") == []  # negated: no complaint about speed
    assert tagger.tag("Ask for help in the chat.", "en") == []  # "helpful" does not match "help"


# After each answer ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_answer_gets_its_sentiment_and_explained_tags(contact):
    response = submit_answer(
        invitation=InvitationFactory(contact=contact), score=3, reason="Support never answered our tickets."
    ).response
    assert response.sentiment == "negative" and response.sentiment_score < 0
    tag = Tag.objects.get(response=response)
    assert (tag.theme.name, tag.how) == ("Support", "keyword")
    assert tag.why["text"] == "Keyword “support”."


@pytest.mark.django_db
def test_a_promoter_with_a_negative_comment_gets_a_check_in(contact, other_contact):
    happy = submit_answer(invitation=InvitationFactory(contact=other_contact), score=10, reason="Great team!").response
    assert happy.sentiment == "positive"
    assert not Task.objects.filter(response=happy, queue=Queue.CHECKIN).exists()

    odd = submit_answer(
        invitation=InvitationFactory(contact=contact), score=9, reason="Terrible support, the app crashes daily."
    ).response
    assert odd.category == Category.PROMOTER and odd.sentiment == "negative"
    check_in = Task.objects.get(response=odd, queue=Queue.CHECKIN)
    assert "the comment reads negative" in check_in.events.first().text
    assert set(Task.objects.filter(response=odd).values_list("queue", flat=True)) == {
        Queue.REFERRAL, Queue.ADVOCACY, Queue.CHECKIN
    }  # fmt: skip


@pytest.mark.django_db
def test_corrections_stick_through_retagging_and_teach_the_tagger(client, csm, contact):
    invitation = InvitationFactory(contact=contact)
    response = submit_answer(invitation=invitation, score=4, reason="Support was slow to answer.").response
    performance, pricing = Theme.objects.get(name="Performance"), Theme.objects.get(name="Pricing")
    assert Tag.objects.filter(response=response, theme=performance).exists()
    client.force_login(csm)
    back = reverse("followups:my_tasks")
    client.post(reverse("insights:tag_correct", args=[response.pk]), {"theme": performance.pk, "present": "0",
                                                                      "next": back})  # fmt: skip
    client.post(reverse("insights:tag_correct", args=[response.pk]), {"theme": pricing.pk, "present": "1"})
    assert ThemeExample.objects.filter(response=response, theme=performance, positive=False).exists()

    responses_retag()
    themes = dict(Tag.objects.filter(response=response).values_list("theme__name", "how"))
    assert themes == {"Support": "keyword", "Pricing": "manual"}  # Performance stays removed

    # The correction is an example for other answers: alike words, no keyword of Pricing.
    other = submit_answer(
        invitation=InvitationFactory(contact=ContactFactory(account=contact.account)), score=5,
        reason="Support was slow to answer, again.",
    ).response  # fmt: skip
    tag = Tag.objects.get(response=other, theme=pricing)
    assert tag.how == "similar" and tag.why["examples"][0]["text"] == "Support was slow to answer."


@pytest.mark.django_db
def test_a_csm_cannot_correct_another_teams_verbatim(client, csm, other_contact):
    response = submit_answer(invitation=InvitationFactory(contact=other_contact), score=2, reason="Slow.").response
    client.force_login(csm)
    url = reverse("insights:tag_correct", args=[response.pk])
    assert client.post(url, {"theme": Theme.objects.first().pk, "present": "1"}).status_code == 404
    assert not ThemeExample.objects.exists()


@pytest.mark.django_db
def test_the_task_and_verbatim_pages_show_sentiment_tags_and_why(client, admin_user, contact):
    response = submit_answer(
        invitation=InvitationFactory(contact=contact), score=2, reason="<b>Billing</b> charged us twice."
    ).response
    task = Task.objects.get(response=response)
    client.force_login(admin_user)
    page = client.get(reverse("followups:task_detail", args=[task.pk])).content.decode()
    assert "Negative" in page and "Keyword “billing”" in page and "not this theme" in page
    assert "<b>Billing</b>" not in page  # customer text escaped
    theme = Theme.objects.get(name="Billing")
    page = client.get(reverse("insights:theme_verbatims", args=[theme.pk]), {"sentiment": "negative"})
    assert page.status_code == 200 and "most representative" in page.content.decode()
    assert list(page.context["page"]) == [response]
    assert (
        not client.get(reverse("insights:theme_verbatims", args=[theme.pk]), {"sentiment": "positive"})
        .context["page"]
        .object_list.exists()
    )


# Theme discovery ---------------------------------------------------------------------------------


CLUSTERS = {
    "mobile": ["The mobile app crashes on login", "Mobile app crashes every time I log in",
               "App crashes on my phone at login", "The mobile app keeps crashing after login"],
    "vat": ["Invoices show the wrong VAT number", "Wrong VAT number on every invoice",
            "Our invoice has the wrong VAT id", "VAT number on invoices is wrong again"],
    "dashboards": ["Love the new dashboard reports", "The new dashboard reports are great",
                   "Great new reports on the dashboard", "Really love the dashboard reports"],
}  # fmt: skip


def _verbatims(program, per_cluster=12):
    account = AccountFactory()
    for name, texts in CLUSTERS.items():
        for i in range(per_cluster):
            score = 10 if name == "dashboards" else 2
            contact = ContactFactory(account=account)
            submit_answer(invitation=InvitationFactory(program=program, contact=contact), score=score,
                          reason=f"{texts[i % len(texts)]} ({i})")  # fmt: skip


@pytest.mark.django_db
def test_discovery_finds_the_clusters_and_an_admin_accepts_merges_or_dismisses(
    client, admin_user, django_capture_on_commit_callbacks
):
    program = ProgramFactory()
    _verbatims(program)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):  # the eager worker runs it
        client.post(reverse("insights:discovery_start"), {"stream": "relationship", "period": "year"})
    job = Discovery.objects.get()  # the eager worker ran it
    assert (job.status, job.progress, job.verbatims) == ("done", 100, 36)
    suggestions = list(job.suggestions.all())
    words = {frozenset(w.lower() for w in s.terms) for s in suggestions}
    for expected in ({"crashes", "mobile"}, {"vat", "wrong"}, {"dashboard", "reports"}):
        assert any(expected & w for w in words), (expected, words)
    mobile = next(s for s in suggestions if {"crashes", "mobile", "app"} & set(s.terms))
    assert mobile.detractor_share == 1.0 and mobile.promoter_share == 0.0
    assert len(mobile.examples) == 5 and all("crash" in e["text"].lower() for e in mobile.examples)

    page = client.get(reverse("insights:discovery")).content.decode()
    assert mobile.name in page and "Accept as a theme" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("insights:suggestion_decide", args=[mobile.pk]), {"action": "accept", "name": "Mobile app"})
    theme = Theme.objects.get(name="Mobile app")
    assert ThemeExample.objects.filter(theme=theme, positive=True).count() == 5
    assert Tag.objects.filter(theme=theme).count() == 12  # the eager re-tag found every crash verbatim

    others = [s for s in suggestions if s.pk != mobile.pk]
    client.post(reverse("insights:suggestion_decide", args=[others[0].pk]),
                {"action": "merge", "theme": Theme.objects.get(name="Billing").pk})  # fmt: skip
    client.post(reverse("insights:suggestion_decide", args=[others[1].pk]), {"action": "dismiss"})
    statuses = dict(Suggestion.objects.values_list("pk", "status"))
    assert statuses[mobile.pk] == SuggestionStatus.ACCEPTED
    assert statuses[others[0].pk] == SuggestionStatus.MERGED
    assert statuses[others[1].pk] == SuggestionStatus.DISMISSED


@pytest.mark.django_db
def test_discovery_with_too_few_verbatims_says_so(admin_user):
    submit_answer(invitation=InvitationFactory(), score=3, reason="Slow.")
    out = io.StringIO()
    call_command("discover_themes", stdout=out)
    assert "1 verbatims, 0 candidate themes" in out.getvalue()
    assert "at least 30 are needed" in out.getvalue()


@pytest.mark.django_db
def test_a_discovery_runs_after_each_relationship_wave_closes_and_a_dead_one_is_restarted(
    django_capture_on_commit_callbacks,
):
    program = ProgramFactory()
    _verbatims(program, per_cluster=10)
    wave = Wave.objects.create(program=program, period="2026-Q1", scheduled_at=datetime(2026, 1, 10, tzinfo=UTC))
    Invitation.objects.update(wave=None)
    InvitationFactory(program=program, wave=wave, when=wave.scheduled_at)
    with time_machine.travel(wave.scheduled_at + timedelta(days=5)):
        assert discovery.discoveries_after_waves() == []  # still open
    with time_machine.travel(wave.scheduled_at + timedelta(days=40)):
        (job,) = discovery.discoveries_after_waves()
        assert job.trigger == "wave" and job.wave == wave
        assert discovery.discoveries_after_waves() == []  # once per wave
    # A worker that died mid-run: the tick restarts the job.
    Discovery.objects.filter(pk=job.pk).update(status="running", heartbeat_at=datetime(2026, 1, 1, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        assert discovery.discoveries_recover()["requeued"] == 1
    assert Discovery.objects.get(pk=job.pk).status == "done"  # the eager worker ran it again


# Drivers --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_drivers_compute_each_themes_impact_with_its_margin(admin_user):
    program = ProgramFactory()
    account = AccountFactory()
    # 10 answers mention pricing: 8 detractors, 2 passives. 30 do not: 15 promoters, 15 passives.
    for i in range(40):
        if i < 10:
            score, reason = (2 if i < 8 else 7), "Too expensive."
        else:
            score, reason = (10 if i < 25 else 8), "Fine overall."
        submit_answer(invitation=InvitationFactory(program=program, contact=ContactFactory(account=account)),
                      score=score, reason=reason)  # fmt: skip
    now = datetime.now(UTC)
    filters = Filters(stream=Stream.RELATIONSHIP, start=now - timedelta(days=30), end=now + timedelta(days=1))
    (pricing,) = [d for d in drivers.drivers(admin_user, filters) if d.name == "Pricing"]
    total_nps = 100 * (15 - 8) / 40  # 17.5
    rest_nps = 100 * 15 / 30  # 50
    assert pricing.impact == pytest.approx(total_nps - rest_nps)  # −32.5 points
    assert pricing.margin == pytest.approx(0.25 * (pricing.score.margin**2 + pricing.rest.margin**2) ** 0.5)
    assert pricing.significant and pricing.previous is None

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='t')[1]}")
    body = api.get("/api/v1/drivers/", {"stream": "relationship", "period": "30d"}).json()
    assert body["drivers"][0]["theme"] == "Pricing" and body["drivers"][0]["impact"] == pytest.approx(-32.5)
    assert api.get("/api/v1/drivers/", {"stream": "nope"}).json() == {"stream": ["relationship or transactional"]}


# Detractor risk ----------------------------------------------------------------------------------


START = datetime(2025, 1, 15, 9, tzinfo=UTC)


def generated_history(*, contacts: int, waves: int, signal: bool, seed: int = 7, team=None, csm=None):
    """Relationship waves a quarter apart. With `signal`, each contact has a hidden mood that
    drives every score (so earlier scores foretell the next); without, every score is drawn
    afresh from the same distribution: there is nothing to learn."""
    rng = random.Random(seed)
    program = ProgramFactory()
    accounts = [AccountFactory(team=team, csm=csm) for _ in range(max(1, contacts // 5))]
    people = Contact.objects.bulk_create(
        [Contact(account=accounts[i % len(accounts)], email=f"p{seed}.{i}@gen.example.com") for i in range(contacts)]
    )
    mood = {c.pk: rng.gauss(0, 1) for c in people}
    for w in range(waves):
        at = START + timedelta(days=91 * w)
        wave = Wave.objects.create(program=program, period=f"G{seed}-{w}", scheduled_at=at)
        invitations = Invitation.objects.bulk_create([
            Invitation(program=program, stream=Stream.RELATIONSHIP, wave=wave, contact=c, account_id=c.account_id,
                       send_at=at, expires_at=at + timedelta(days=30), quiet_until=at + timedelta(days=30),
                       responded_at=at + timedelta(days=2), **Invitation.new_token_fields())
            for c in people
        ])  # fmt: skip
        responses = []
        for inv in invitations:
            if signal:
                score = round(7.5 - 2.2 * mood[inv.contact_id] + rng.gauss(0, 1.2))
            else:
                score = rng.choice([1, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10])
            score = max(0, min(10, score))
            responses.append(Response(
                invitation=inv, program=program, stream=Stream.RELATIONSHIP, wave=wave, contact_id=inv.contact_id,
                account_id=inv.account_id, score=score, category=category_for(score),
                submitted_at=at + timedelta(days=2), updated_at=at + timedelta(days=2), routed_at=at,
            ))  # fmt: skip
        Response.objects.bulk_create(responses)
    return people


@pytest.mark.django_db
def test_risk_learns_a_known_signal_and_explains_each_contact(client, admin_user):
    generated_history(contacts=300, waves=4, signal=True)
    with time_machine.travel(START + timedelta(days=91 * 4 - 10)):
        model = risk.train_and_score(trigger="test")
    m = model.metrics
    assert model.status == RiskStatus.READY, m
    assert (model.labelled, m["train_size"], m["test_size"]) == (1200, 900, 300)  # the newest wave is measured
    assert m["auc"] > 0.75 and m["auc_lower"] > 0.5
    assert m["precision_top_decile"] > 2 * m["test_base_rate"]
    assert len(m["calibration"]) == 5
    assert model.scored == 300 == RiskScore.objects.count()
    top = RiskScore.objects.first()
    assert top.probability > 0.5
    assert top.reasons[0]["feature"] in ("last_score", "previous_score")
    assert top.reasons[0]["label"].startswith("Last relationship score") or "before that" in top.reasons[0]["label"]

    client.force_login(admin_user)
    page = client.get(reverse("insights:risk")).content.decode()
    assert "ROC AUC" in page and top.contact.email in page
    account_page = client.get(reverse("customers:account_detail", args=[top.account_id])).content.decode()
    assert "Detractor risk" in account_page and f"{top.probability * 100:.0f} %" in account_page


@pytest.mark.django_db
def test_risk_reports_no_skill_on_a_history_without_signal_and_predicts_nothing(admin_user):
    generated_history(contacts=300, waves=4, signal=False)
    model = risk.train_and_score(trigger="test")
    assert model.status == RiskStatus.NO_SKILL, model.metrics
    assert model.metrics["auc_lower"] <= 0.5
    assert not RiskScore.objects.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='t')[1]}")
    body = api.get("/api/v1/risk/").json()
    assert body["status"] == "no_skill" and body["contacts"] == [] and body["evaluation"]["auc"] is not None


@pytest.mark.django_db
def test_risk_with_too_little_history_says_so_with_the_counts(admin_user):
    generated_history(contacts=40, waves=2, signal=True)
    out = io.StringIO()
    call_command("score_risk", stdout=out)
    assert "80 labelled answers" in out.getvalue() and "Too little history" in out.getvalue()
    assert RiskModel.objects.get().status == RiskStatus.TOO_LITTLE
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='t')[1]}")
    body = api.get("/api/v1/risk/").json()
    assert body["status"] == "too_little" and body["labelled"] == 80 and body["needed"] == {
        "labelled": 200, "detractors": 30
    }  # fmt: skip


@pytest.mark.django_db
def test_likely_detractors_are_scoped_to_the_team(client, team, other_team):
    csm = UserFactory(email="c1@example.com", role=Role.CSM, team=team)
    other = UserFactory(email="c2@example.com", role=Role.CSM, team=other_team)
    generated_history(contacts=150, waves=4, signal=True, seed=1, team=team, csm=csm)
    generated_history(contacts=150, waves=4, signal=True, seed=2, team=other_team, csm=other)
    assert risk.train_and_score().status == RiskStatus.READY
    client.force_login(csm)
    shown = list(client.get(reverse("insights:risk")).context["page"])
    assert shown and {s.account.team_id for s in shown} == {team.pk}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=csm, name='t')[1]}")
    contacts = api.get("/api/v1/risk/", {"limit": 1000}).json()["contacts"]
    assert len(contacts) == 150 and {c["team"] for c in contacts} == {team.name}


@pytest.mark.django_db
def test_risk_is_scored_ahead_of_a_relationship_wave():
    from surveys.cadence import next_wave

    program = ProgramFactory(start_date=date(2026, 4, 1))
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC)):
        _, at = next_wave(program)
    with time_machine.travel(at - timedelta(days=30)):
        assert not risk.due_before_wave()
    with time_machine.travel(at - timedelta(days=10)):
        assert risk.due_before_wave()
        from insights.tasks import intelligence_tick

        intelligence_tick()
        assert RiskModel.objects.get().trigger == "wave"
        assert not risk.due_before_wave()  # once a week at most


# API -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_gives_tags_with_why_sentiment_and_theme_suggestions(admin_user, csm, contact, other_contact):
    program = ProgramFactory()
    _verbatims(program)
    call_command("discover_themes", stdout=io.StringIO())
    response = submit_answer(
        invitation=InvitationFactory(contact=contact), score=1, reason="Billing is wrong."
    ).response
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='t')[1]}")
    body = api.get(f"/api/v1/responses/{response.pk}/").json()
    assert body["sentiment"] == "negative" and body["sentiment_score"] < 0
    why = "Keyword “billing”."
    detail = {"keyword": "billing", "words": "billing", "text": why}
    assert body["tags"] == [{"theme": "Billing", "how": "keyword", "why": why, "detail": detail}]
    suggestions = api.get("/api/v1/theme-suggestions/").json()
    assert suggestions["verbatims"] == 36 and len(suggestions["results"]) >= 3
    assert all(len(s["examples"]) == 5 for s in suggestions["results"])
    # A CSM sees the candidates but only the example verbatims of their own team (none here).
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=csm, name='c')[1]}")
    assert all(s["examples"] == [] for s in api.get("/api/v1/theme-suggestions/").json()["results"])
