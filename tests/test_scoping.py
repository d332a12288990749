"""The scoping matrix, generated from the URL conf.

Two teams with the same kinds of data, each row carrying a marker string that only that team's
data contains. Every role — Admin, Manager and CSM of team A, CSM of team B, a Manager and a CSM
with no team — opens every staff page and API endpoint: pages about one object with the other
team's objects (403/404), lists and figures with and without filters pointing at the other team
(the other team's markers never appear, and the figures count only visible rows).
"""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from accounts import scoping
from accounts.models import Role
from accounts.permissions import ADMIN_ONLY, view_roles
from accounts.services import api_token_create
from followups.models import Task
from insights.models import Theme
from surveys.models import Invitation, Program, Response, Stream

from .factories import (
    AccountFactory,
    ContactFactory,
    InvitationFactory,
    ProgramFactory,
    TeamFactory,
    UserFactory,
    submit_answer,
)
from .test_permissions import ALL_URLS, PUBLIC

# Pages about one team-bound object: which object the URL takes.
OBJECT_PAGES = {
    "customers:account_detail": "account",
    "customers:contact_detail": "contact",
    "followups:task_detail": "task",
    "followups:task_assign": "task",
    "followups:task_outreach": "task",
    "followups:task_note": "task",
    "followups:task_close": "task",
    "followups:task_email": "task",
    "api:task_detail": "task",
    "customers:contact_unsubscribe": "contact",
    "api:account_detail": "account",
    "api:contact_detail": "contact",
    "api:contact_unsubscribe": "contact",
    "api:response_detail": "response",
    "api:task_assign": "task",
    "api:task_outreach": "task",
    "api:task_notes": "task",
    "api:task_close": "task",
    "api:task_loop_email": "task",
    "insights:tag_correct": "response",
}
# Pages about an object that belongs to no team (a theme) but that list team-bound rows.
SHARED_OBJECT_PAGES = {"insights:theme_verbatims": lambda: {"pk": Theme.objects.get(name="Markers").pk}}
POSTABLE = {"customers:contact_unsubscribe", "insights:tag_correct",
            "followups:task_assign", "followups:task_outreach", "followups:task_note", "followups:task_close",
            "followups:task_email", "api:contact_unsubscribe", "api:task_assign", "api:task_outreach",
            "api:task_notes", "api:task_close", "api:task_loop_email"}  # fmt: skip
# Query strings that point a list at the other team; each list must still show only visible rows.
PROBES = ["", "?team={team}", "?account={external_id}", "?csm={csm}", "?status=", "?assignee={csm}",
          "?segment=enterprise&period=year", "?stream=transactional&period=year"]  # fmt: skip


def _world(name: str, program, transactional):
    team = TeamFactory(name=f"Team {name}")
    csm = UserFactory(email=f"csm.{name.lower()}@example.com", role=Role.CSM, team=team, name=f"CSM {name}")
    account = AccountFactory(team=team, csm=csm, name=f"Account-{name}-marker", external_id=f"EXT-{name}")
    contact = ContactFactory(account=account, email=f"contact-{name.lower()}-marker@example.com")
    tasks = []
    for prog, score in ((program, 2), (transactional, 3)):
        invitation = InvitationFactory(program=prog, contact=contact)
        response = submit_answer(invitation=invitation, score=score, reason=f"Reason-{name}-marker")
        tasks.append(response.response.tasks.get())
    InvitationFactory(program=program, contact=contact)  # an open invitation, not yet answered
    return {"team": team, "csm": csm, "account": account, "contact": contact, "task": tasks[0],
            "response": tasks[0].response}  # fmt: skip


@pytest.fixture
def world(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Theme.objects.create(name="Markers", keywords="marker")
    program = ProgramFactory()
    transactional = ProgramFactory(stream=Stream.TRANSACTIONAL, event_types=["ticket_resolved"])
    a, b = _world("A", program, transactional), _world("B", program, transactional)
    users = {
        "admin": UserFactory(email="admin@example.com", role=Role.ADMIN, team=None),
        "manager_a": UserFactory(email="manager.a@example.com", role=Role.MANAGER, team=a["team"]),
        "csm_a": a["csm"],
        "csm_b": b["csm"],
        "manager_no_team": UserFactory(email="manager.none@example.com", role=Role.MANAGER, team=None),
        "csm_no_team": UserFactory(email="csm.none@example.com", role=Role.CSM, team=None),
    }
    return {"A": a, "B": b, "users": users}


def _sees(user_key: str) -> set[str]:
    """Which teams' data each user may see."""
    return {"admin": {"A", "B"}, "manager_a": {"A"}, "csm_a": {"A"}, "csm_b": {"B"}}.get(user_key, set())


def _takes_arguments(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


def _list_urls():
    """Every staff page and API endpoint that takes no object: lists, dashboards, exports."""
    for name, _view in ALL_URLS:
        if name in SHARED_OBJECT_PAGES:
            yield name, reverse(name, kwargs=SHARED_OBJECT_PAGES[name]())
        elif name in PUBLIC or name in ("logout", "api:events") or _takes_arguments(name):
            continue
        else:
            yield name, reverse(name)


def test_every_object_page_is_in_the_matrix():
    """A staff page with URL arguments is either team-bound (in OBJECT_PAGES) or for Admins only."""
    for name, view in ALL_URLS:
        if name in PUBLIC or name in OBJECT_PAGES or name in SHARED_OBJECT_PAGES:
            continue
        if _takes_arguments(name):
            assert tuple(view_roles(view) or ()) == ADMIN_ONLY, f"{name}: add it to OBJECT_PAGES or make it admin-only"


@pytest.mark.django_db
@pytest.mark.parametrize("user_key", ["manager_a", "csm_a", "csm_b", "manager_no_team", "csm_no_team"])
def test_object_pages_of_another_team_are_not_found(client, world, user_key):
    user = world["users"][user_key]
    client.force_login(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='t')[1]}")
    for team_name in ("A", "B"):
        if team_name in _sees(user_key):
            continue
        for name, kind in OBJECT_PAGES.items():
            url = reverse(name, kwargs={"pk": world[team_name][kind].pk})
            if name.startswith("api:") and name in POSTABLE:
                body = {"assignee": None, "channel": "call", "text": "x", "outcome": "recovered",
                        "subject": "x", "body": "x"}  # fmt: skip
                status = api.post(url, body, format="json").status_code
            elif name.startswith("api:"):
                status = api.get(url).status_code
            elif name in POSTABLE:
                status = client.post(url, {"assignee": user.pk, "kind": "email", "text": "x"}).status_code
            else:
                status = client.get(url).status_code
            assert status in (403, 404), f"{user_key} on {name} of team {team_name}: {status}"
    # nothing was changed by the refused POSTs
    assert not Task.objects.filter(events__actor=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("user_key", ["admin", "manager_a", "csm_a", "csm_b", "manager_no_team", "csm_no_team"])
def test_lists_and_figures_show_only_visible_rows(client, world, user_key):
    user = world["users"][user_key]
    client.force_login(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='t')[1]}")
    hidden = {"A", "B"} - _sees(user_key)
    tried, seen = 0, set()
    for name, url in _list_urls():
        for other in ("A", "B"):
            for probe in PROBES:
                query = probe.format(
                    team=world[other]["team"].pk, external_id=world[other]["account"].external_id,
                    csm=world[other]["csm"].pk,
                )  # fmt: skip
                response = api.get(url + query) if name.startswith("api:") else client.get(url + query)
                tried += 1
                assert response.status_code < 500, f"{user_key} {url}{query}: {response.status_code}"
                raw = b"".join(response.streaming_content) if response.streaming else response.content
                body = raw.decode(errors="replace")
                seen |= {name for team_name in _sees(user_key) if f"Reason-{team_name}-marker" in body}
                for team_name in hidden:
                    for marker in (f"Account-{team_name}-marker", f"Reason-{team_name}-marker",
                                   f"contact-{team_name.lower()}-marker"):  # fmt: skip
                        assert marker not in body, f"{user_key} sees {marker} on {url}{query}"
    assert tried > 100
    if _sees(user_key):  # the probes are not vacuous: the visible verbatims show on these pages
        assert {"insights:theme_verbatims", "api:tasks", "insights:export_responses", "insights:export_tasks"} <= seen


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_key", "expected"),
    [("admin", 2), ("manager_a", 1), ("csm_a", 1), ("csm_b", 1), ("manager_no_team", 0), ("csm_no_team", 0)],
)
def test_api_figures_count_only_visible_rows(world, user_key, expected):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=world['users'][user_key], name='t')[1]}")
    body = api.get(reverse("api:nps"), {"period": "year"}).json()
    assert body["responses"] == expected
    tasks = api.get(reverse("api:tasks")).json()
    assert len(tasks["results"] if isinstance(tasks, dict) else tasks) == 2 * expected


@pytest.mark.django_db
def test_a_user_without_a_team_sees_nothing_team_bound(world):
    for key in ("manager_no_team", "csm_no_team"):
        user = world["users"][key]
        for qs in (scoping.accounts(user), scoping.contacts(user), scoping.invitations(user),
                   scoping.responses(user), scoping.tasks(user), scoping.events(user)):  # fmt: skip
            assert not qs.exists()


@pytest.mark.django_db
def test_scoping_needs_a_user_and_refuses_unknown_models(world):
    with pytest.raises(TypeError):
        scoping.responses(None)
    with pytest.raises(TypeError):
        scoping.visible(world["users"]["admin"], Program.objects.all())
    assert scoping.responses(scoping.SYSTEM).count() == Response.objects.count()
    assert scoping.invitations(scoping.SYSTEM).count() == Invitation.objects.count()


@pytest.mark.django_db
def test_moving_an_account_keeps_answers_with_the_team_they_were_given_under(client, world):
    """The old team's CSM keeps their task but never reads what the account said under the new team."""
    a, b = world["A"], world["B"]
    account = a["account"]
    account.team, account.csm = b["team"], b["csm"]
    account.save()
    later = InvitationFactory(program=a["task"].response.program, contact=a["contact"])
    submit_answer(invitation=later, score=1, reason="Said-under-B-marker")
    client.force_login(a["csm"])
    page = client.get(reverse("followups:task_detail", args=[a["task"].pk]))
    assert page.status_code == 200  # their task stays theirs (team snapshot)
    assert "Reason-A-marker" in page.content.decode()
    assert "Said-under-B-marker" not in page.content.decode()
    dashboard = client.get(reverse("insights:dashboard") + "?period=year").content.decode()
    assert "Said-under-B-marker" not in dashboard
    client.force_login(b["csm"])
    assert client.get(reverse("customers:account_detail", args=[account.pk])).status_code == 200
    b_task = Task.objects.get(response__reason="Said-under-B-marker", queue="recovery")
    b_page = client.get(reverse("followups:task_detail", args=[b_task.pk])).content.decode()
    assert "Said-under-B-marker" in b_page
    assert "Reason-A-marker" not in b_page
