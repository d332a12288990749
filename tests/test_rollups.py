"""The dashboard's daily rollups (insights.rollups): every figure read through them equals the same
figure counted from the responses, in every state of the rollups — before they exist, right after a
build, after erasures, deletions and edits, across a time zone's day boundaries."""

from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import scoping
from customers.dataprotection import contact_erase
from insights import rollups, selectors
from insights.filters import filters_from
from insights.models import DailyCount, DailyThemeCount, RollupState, Tag, Theme
from insights.services import responses_retag, tag_correct
from surveys.models import Response, Stream
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InvitationFactory,
    ProgramFactory,
    TransactionalProgramFactory,
    submit_answer,
)

PARAMS = [
    {"period": "year"},
    {"period": "90d"},
    {"period": "30d"},
    {"from": "2000-01-01"},  # all time
    {"period": "year", "stream": "transactional"},
    {"period": "year", "region": "EMEA"},  # one dimension: its rollup rows
    {"period": "year", "region": "EMEA", "segment": "smb"},  # two: read from the responses
]


def load(team, other_team, days: int = 120) -> None:
    """Answers over `days` days, both streams, two teams, a spread of segments, reasons and themes."""
    Theme.objects.update_or_create(name="Roll price", defaults={"keywords": "price"})
    Theme.objects.update_or_create(name="Roll support", defaults={"keywords": "support"})
    relationship, transactional = ProgramFactory(), TransactionalProgramFactory()
    accounts = [
        AccountFactory(team=team, region="EMEA", segment="smb"),
        AccountFactory(team=other_team, region="APAC", segment="enterprise"),
        AccountFactory(team=None, region="NA", segment="mid_market"),
    ]
    now = timezone.now()
    for i in range(60):
        program = transactional if i % 4 == 0 else relationship
        invitation = InvitationFactory(program=program, contact=ContactFactory(account=accounts[i % 3]))
        reason = "" if i % 3 == 0 else f"because {i}: " + ["the price", "support", "price and support"][i % 5 % 3]
        response = submit_answer(invitation=invitation, score=(i * 7) % 11, reason=reason).response
        # spread over the days, at hours that cross midnight in any zone
        when = now - timedelta(days=(i * 13) % days, hours=(i * 5) % 24)
        Response.objects.filter(pk=response.pk).update(submitted_at=when, updated_at=when)


def assert_exact(user, params) -> None:
    """Each figure through the rollups equals the one counted from the responses."""
    filters, _ = filters_from({"stream": Stream.RELATIONSHIP, **params})
    raw = selectors.responses(user, filters)
    assert selectors.summary(user, filters) == selectors.overview(raw), params
    for grain in ("month", "quarter"):
        assert selectors.score_trend(user, filters, grain) == selectors.trend(raw, grain), (params, grain)
    for dimension in selectors.dimensions_for(filters.stream):
        ours = sorted(selectors.segments(user, filters, dimension))
        assert ours == sorted(selectors.segment_table(raw, dimension)), (params, dimension)
    table = selectors.theme_table(raw)
    assert selectors.theme_figures(user, filters) == (table, selectors.theme_trend(raw)), params
    for row in table[:2]:  # one theme's figures (its verbatims page): that theme's row, read alone
        assert selectors.theme_figures(user, filters, theme=row["theme_id"])[0] == [row], params


def test_every_figure_is_the_same_before_and_after_the_rollups(admin_user, manager, team, other_team):
    load(team, other_team)
    for params in PARAMS:
        assert_exact(admin_user, params)  # nothing rolled up yet: all from the responses
    done = rollups.refresh()
    assert done["added"] > 100 and DailyCount.objects.filter(dimension="region").exists()
    assert DailyThemeCount.objects.filter(theme__name="Roll price").exists()
    assert Tag.objects.filter(theme__name="Roll support").count() > 10
    for user in (admin_user, manager, scoping.SYSTEM):
        for params in PARAMS:
            assert_exact(user, params)
        assert_exact(user, {"period": "year", "team": str(team.pk)})
    rows = set(DailyCount.objects.values_list("day", "stream", "team", "score", "responses", "commented"))
    assert rollups.refresh() == {"changed": 0, "added": 0, "repaired": 0, "themes": 0}
    assert set(DailyCount.objects.values_list("day", "stream", "team", "score", "responses", "commented")) == rows


def test_a_period_of_sealed_days_is_read_from_the_rollups_alone(admin_user, team, other_team):
    load(team, other_team)
    rollups.refresh()
    built = RollupState.objects.get().built_through
    filters, _ = filters_from({"from": (built - timedelta(days=60)).isoformat(), "to": str(built - timedelta(1))})
    with CaptureQueriesContext(connection) as queries:
        overview = selectors.summary(admin_user, filters)
        selectors.score_trend(admin_user, filters)
        selectors.segments(admin_user, filters, "region")
        table, trend = selectors.theme_figures(admin_user, filters)
        assert table and trend["rows"]
        filtered = replace(filters, dims={"region": "EMEA"})
        assert selectors.summary(admin_user, filtered).score.responses > 0
        selectors.segments(admin_user, filtered, "region")
    assert overview.score.responses > 0
    assert not [q["sql"] for q in queries if "surveys_response" in q["sql"]]


def test_a_retagging_counts_the_themes_from_the_responses_until_the_next_refresh(admin_user, team, other_team):
    load(team, other_team)
    rollups.refresh()
    Theme.objects.filter(name="Roll support").update(keywords="because")  # every comment matches now
    responses_retag()
    assert RollupState.objects.get().themes_through is None
    for params in PARAMS:
        assert_exact(admin_user, params)  # the theme rollups are stale: not read
    done = rollups.refresh()
    assert done["themes"] > 100 and done["added"] == 0
    state = RollupState.objects.get()
    assert state.themes_through == state.built_through
    for params in PARAMS:
        assert_exact(admin_user, params)


def test_a_tag_corrected_on_a_sealed_day_is_rolled_up_at_once(admin_user, team, other_team):
    load(team, other_team)
    rollups.refresh()
    built = RollupState.objects.get().built_through
    old = (
        Response.objects.filter(stream=Stream.RELATIONSHIP, submitted_at__lt=rollups.midnight(built))
        .exclude(tags__theme__name="Roll price")
        .first()
    )
    before = old.updated_at
    tag_correct(response=old, theme=Theme.objects.get(name="Roll price"), present=True, user=admin_user)
    old.refresh_from_db()
    assert old.updated_at > before  # the API's updated_since and the rollups see it
    for params in PARAMS:
        assert_exact(admin_user, params)  # no refresh in between


def test_a_manager_reads_only_their_teams_rollups(manager, team, other_team):
    load(team, other_team)
    rollups.refresh()
    filters, _ = filters_from({"from": "2000-01-01"})
    mine = selectors.summary(manager, filters).score.responses
    assert mine == Response.objects.filter(team=team, stream=Stream.RELATIONSHIP).count() > 0


def test_an_erasure_on_a_sealed_day_is_rolled_up_at_the_next_refresh(admin_user, team, other_team):
    load(team, other_team)
    rollups.refresh()
    built = RollupState.objects.get().built_through
    old = Response.objects.filter(submitted_at__lt=rollups.midnight(built)).exclude(reason="").first()
    contact_erase(old.contact)  # blanks the reason: the comment rate changes
    done = rollups.refresh()
    assert done["changed"] >= 1
    for params in PARAMS:
        assert_exact(admin_user, params)


def test_a_deleted_response_is_repaired_by_the_daily_comparison(admin_user, team, other_team):
    load(team, other_team)
    rollups.refresh()
    built = RollupState.objects.get().built_through
    sealed = Response.objects.filter(stream=Stream.RELATIONSHIP, submitted_at__lt=rollups.midnight(built))
    sealed.first().contact.delete()  # its responses go with it: no updated_at to see
    filters, _ = filters_from({"from": "2000-01-01"})
    raw = selectors.overview(selectors.responses(admin_user, filters))
    assert selectors.summary(admin_user, filters) != raw  # until the day's comparison
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert rollups.refresh()["repaired"] >= 1
        for params in PARAMS:
            assert_exact(admin_user, params)


def test_days_are_sealed_only_once_every_edit_window_has_passed(admin_user, team):
    program = ProgramFactory(edit_window_hours=72)
    invitation = InvitationFactory(program=program, contact=ContactFactory(account=AccountFactory(team=team)))
    submit_answer(invitation=invitation, score=9, reason="great")
    today = timezone.localdate()
    rollups.refresh()
    assert RollupState.objects.get().built_through == today - timedelta(days=4)  # 72 h + a day
    assert not DailyCount.objects.exists()
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        rollups.refresh()
        assert DailyCount.objects.get(dimension="").responses == 1
        assert_exact(admin_user, {"period": "30d"})


@override_settings(TIME_ZONE="Pacific/Auckland")
def test_days_are_the_companys_days(admin_user, team, other_team):
    load(team, other_team, days=40)
    rollups.refresh()
    for params in PARAMS:
        assert_exact(admin_user, params)


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Sydney"])
def test_rollups_across_a_dst_change(admin_user, team, other_team, zone):
    with override_settings(TIME_ZONE=zone), time_machine.travel("2026-11-20 12:00Z", tick=False):
        load(team, other_team, days=60)  # both zones changed their clocks inside these 60 days
        rollups.refresh()
        for params in PARAMS:
            assert_exact(admin_user, params)
