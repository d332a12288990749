"""Every list and dashboard page reads a fixed number of queries, whatever it lists: the count is pinned,
and it stays the same when the data triples (no query per row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts.models import Role
from outbox.models import CaughtEmail
from surveys.models import Wave

from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, UserFactory, submit_answer

# url name → (the role that opens it, the most queries it may take): what a run measured, plus one or two
# (the first visit of a settings page creates its rows). A page that needs more says why in its commit.
PAGES = {
    "home": ("admin", 24),
    "followups:my_tasks": ("csm", 8),
    "followups:queue": ("manager", 9),
    "insights:dashboard": ("manager", 17),
    "insights:accounts": ("manager", 15),
    "customers:account_list": ("manager", 9),
    "customers:contact_list": ("manager", 7),
    "surveys:program_list": ("admin", 7),
    "outbox:list": ("admin", 7),
    "accounts:audit_list": ("admin", 9),
    "accounts:user_list": ("admin", 7),
    "customers:import_list": ("admin", 6),
    "accounts:token_list": ("admin", 7),
    "followups:loop_templates": ("admin", 12),
    "followups:sla_policies": ("admin", 10),
    "insights:themes": ("admin", 6),
}
DETAIL_PAGES = {  # pages about one object that list its parts
    "customers:account_detail": ("manager", 15),
    "surveys:wave_detail": ("admin", 12),
}


def _grow(team, csm, admin, program, wave, account, times: int) -> None:
    for i in range(times):
        contact = ContactFactory(account=AccountFactory(team=team, csm=csm, arr=1000 + i))
        for score in (2, 8, 10):
            submit_answer(invitation=InvitationFactory(program=program, contact=contact), score=score, reason="ok")
        inner = ContactFactory(account=account)
        submit_answer(invitation=InvitationFactory(program=program, contact=inner, wave=wave), score=i % 11, reason="")
        CaughtEmail.objects.create(subject=f"Hi {i}", from_email="a@example.com", to="b@example.com")
        audit.record(admin, "program.update", program, before={"name": "a"}, after={"name": str(i)})


@pytest.fixture
def world(db, team):
    users = {
        "admin": UserFactory(role=Role.ADMIN, team=None),
        "manager": UserFactory(role=Role.MANAGER, team=team),
        "csm": UserFactory(role=Role.CSM, team=team),
    }
    program = ProgramFactory()
    wave = Wave.objects.create(program=program, period="2026-Q4", scheduled_at=timezone.now())
    account = AccountFactory(team=team, csm=users["csm"])
    return {"users": users, "team": team, "program": program, "wave": wave, "account": account}


def _queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_list_and_dashboard_pages_read_a_pinned_number_of_queries_at_any_size(client, world, settings):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"  # the Outbox page exists with this backend
    users, team = world["users"], world["team"]
    grow = (team, users["csm"], users["admin"], world["program"], world["wave"], world["account"])
    urls = {name: reverse(name) for name in PAGES}
    urls["customers:account_detail"] = reverse("customers:account_detail", args=[world["account"].pk])
    urls["surveys:wave_detail"] = reverse("surveys:wave_detail", args=[world["wave"].pk])
    limits = {**PAGES, **DETAIL_PAGES}
    _grow(*grow, times=2)
    small = {name: _queries(client, users[role], urls[name]) for name, (role, _limit) in limits.items()}
    _grow(*grow, times=4)
    large = {name: _queries(client, users[role], urls[name]) for name, (role, _limit) in limits.items()}
    too_many = {name: n for name, n in large.items() if n > limits[name][1]}
    assert too_many == {}, f"over the pinned count: {too_many}"
    growing = {name: (small[name], large[name]) for name in limits if large[name] > small[name]}
    assert growing == {}, f"a query per row: {growing}"
