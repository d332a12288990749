"""No 500 on any input: arbitrary query strings at every list page and API endpoint, arbitrary
JSON at the events API, arbitrary scores, reasons and tokens at the customer pages.

The Django test client re-raises a view's exception, so a crash fails the example with its
traceback; a 5xx status fails it too. Hypothesis prints the smallest input that failed.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create

from .factories import AccountFactory, ContactFactory, InvitationFactory, ProgramFactory, UserFactory, submit_answer
from .test_scoping import _list_urls

FUZZ = settings(
    max_examples=30, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
# The parameters the pages read, and odd values that once broke something somewhere.
KEYS = ["stream", "period", "from", "to", "team", "csm", "segment", "region", "plan_tier", "page", "status",
        "queue", "assignee", "overdue", "account", "q", "by", "sort", "grain", "loop_by", "urgency", "score",
        "cursor", "updated_since", "category"]  # fmt: skip
NASTY = ["", "abc", "²", "-1", "0", "9999-12-31", "0001-01-01", "2026-02-30", "\x00", "1" * 40, "%", "' OR 1=1 --",
         "<script>alert(1)</script>", "true", "null", "[]", "{}", "１２", "\ud7ff", "..", "/", "NaN",
         "1e309"]  # fmt: skip
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
query_strings = st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), values), max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@pytest.fixture
def seeded(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from insights.models import Theme

    Theme.objects.create(name="Markers", keywords="slow")
    admin = UserFactory(email="admin@example.com", role=Role.ADMIN, team=None)
    csm = UserFactory(email="csm@example.com", role=Role.CSM)
    account = AccountFactory(team=csm.team, csm=csm)
    contact = ContactFactory(account=account)
    program = ProgramFactory()
    submit_answer(invitation=InvitationFactory(program=program, contact=contact), score=3, reason="Too slow")
    return {"admin": admin, "csm": csm, "invitation": InvitationFactory(program=program, contact=contact)}


def _encode(pairs) -> str:
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "csm"])
def test_list_pages_and_api_never_fail_on_any_query_string(client, seeded, role):
    user = seeded[role]
    client.force_login(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='fuzz')[1]}")
    urls = list(_list_urls())
    assert len(urls) > 15

    @FUZZ
    @given(pairs=query_strings, index=st.integers(min_value=0, max_value=len(urls) - 1))
    def check(pairs, index):
        name, url = urls[index]
        target = f"{url}?{_encode(pairs)}"
        response = api.get(target) if name.startswith("api:") else client.get(target)
        assert response.status_code < 500, target
        if name.startswith("api:") and response.status_code == 400:
            assert isinstance(response.json(), dict)  # field errors, not a page

    check()
    # every page, once with every nasty value in every key
    for name, url in urls:
        for value in NASTY:
            target = f"{url}?{_encode([(k, value) for k in KEYS])}"
            response = api.get(target) if name.startswith("api:") else client.get(target)
            assert response.status_code < 500, target


@pytest.mark.django_db
def test_events_api_answers_any_json_with_a_field_error_or_a_result(seeded):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=seeded['admin'], name='fuzz')[1]}")
    url = reverse("api:events")
    valid = {
        "type": "ticket_resolved", "contact": {"email": "x@example.com"}, "account": {"external_id": "A1"},
        "occurred_at": "2026-01-01T00:00:00Z",
    }  # fmt: skip

    @FUZZ
    @given(body=json_values, properties=json_values)
    def check(body, properties):
        for payload in (body, {**valid, "properties": properties}):
            response = api.post(url, data=json.dumps(payload), content_type="application/json")
            assert response.status_code < 500, payload
            if response.status_code == 400:
                assert isinstance(response.json(), dict)

    check()
    for payload in ({**valid, "properties": {"note": "nul\x00here"}}, {**valid, "contact": {"email": "a\x00@x.io"}}):
        response = api.post(url, data=json.dumps(payload), content_type="application/json")
        assert response.status_code == 400, response.content
    deep = "[" * 5000 + "]" * 5000
    response = api.post(url, data=deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    nested = {**valid, "properties": json.loads("[" * 50 + "]" * 50)}
    nested["properties"] = {"a": nested["properties"]}
    response = api.post(url, data=json.dumps(nested), content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["properties"][0]


@pytest.mark.django_db
def test_customer_pages_never_fail_on_any_input(client, seeded):
    token = seeded["invitation"].token
    pages = [reverse(name, args=[token]) for name in ("surveys:answer", "surveys:unsubscribe", "surveys:thanks")]
    pages += [reverse("surveys:answer", args=["forged-" + token[:-3]]), reverse("surveys:answer", args=["x"])]

    @FUZZ
    @given(pairs=query_strings, score=values, reason=st.text(max_size=200), index=st.integers(0, len(pages) - 1))
    def check(pairs, score, reason, index):
        page = pages[index]
        assert client.get(f"{page}?{_encode(pairs)}").status_code < 500
        posted = client.post(page, {"score": score.encode("utf-8", "surrogatepass"), "reason": reason})
        assert posted.status_code < 500

    check()
