"""The REST API v1 beyond events: accounts and contacts (upsert, bulk), responses, programs, waves,
invitations, task actions; cursor pages and `updated_since`; the same scoping as the UI."""

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_token_create
from customers.models import Account, Contact
from followups.models import Task

from .factories import AccountFactory, InvitationFactory, ProgramFactory, submit_answer


def _api(user, scope="write") -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='t', scope=scope)[1]}")
    return api


def test_accounts_are_created_upserted_and_listed_incrementally(admin_user, csm, team):
    api = _api(admin_user)
    created = api.post("/api/v1/accounts/", {"external_id": "CRM-1", "name": "Acme", "team": team.name}, format="json")
    assert created.status_code == 201 and created.json()["team"] == team.name
    refused = api.post("/api/v1/accounts/", {"external_id": "CRM-1", "name": "Again", "segment": "huge"}, format="json")
    assert refused.status_code == 400 and set(refused.json()) == {"external_id", "segment"}
    first = api.put("/api/v1/accounts/by-external-id/CRM-2/", {"name": "Globex", "arr": "1200.50"}, format="json")
    assert first.status_code == 201
    again = api.put("/api/v1/accounts/by-external-id/CRM-2/", {"status": "churned"}, format="json")
    assert again.status_code == 200 and again.json()["name"] == "Globex" and again.json()["status"] == "churned"
    checkpoint = timezone.now()
    api.patch(f"/api/v1/accounts/{created.json()['id']}/", {"region": "EMEA"}, format="json")
    changed = api.get("/api/v1/accounts/", {"updated_since": checkpoint.isoformat()}).json()["results"]
    assert [a["external_id"] for a in changed] == ["CRM-1"]
    # A CSM reads their team's accounts only, and may not write.
    reader = _api(csm)
    AccountFactory(external_id="OTHER")  # no team
    assert {a["external_id"] for a in reader.get("/api/v1/accounts/").json()["results"]} == {"CRM-1"}
    assert reader.post("/api/v1/accounts/", {"external_id": "X", "name": "X"}, format="json").status_code == 403


def test_a_bulk_upsert_keeps_the_good_items_and_names_each_bad_one(admin_user):
    AccountFactory(external_id="CRM-9", name="Old name")
    items = [
        {"external_id": "CRM-9", "name": "New name"},
        {"external_id": "CRM-10", "name": "Initech", "arr": "not money"},
        "not an object",
        {"external_id": "CRM-11", "name": "Umbrella"},
    ]
    result = _api(admin_user).post("/api/v1/accounts/bulk/", items, format="json").json()
    assert (result["created"], result["updated"], result["errors"]) == (1, 1, 2)
    assert [r["status"] for r in result["results"]] == ["updated", "error", "error", "created"]
    assert "arr" in result["results"][1]["errors"]
    assert Account.objects.get(external_id="CRM-9").name == "New name"
    assert not Account.objects.filter(external_id="CRM-10").exists()
    too_many = _api(admin_user).post("/api/v1/accounts/bulk/", [{}] * 1001, format="json")
    assert too_many.status_code == 400


def test_contacts_upsert_by_email_and_unsubscribe(admin_user, account):
    api = _api(admin_user)
    made = api.put("/api/v1/contacts/by-email/Ada@Example.com/", {"name": "Ada", "account": account.external_id},
                   format="json")  # fmt: skip
    assert made.status_code == 201 and made.json()["email"] == "ada@example.com"
    same = api.put("/api/v1/contacts/by-email/ada@example.com/", {"title": "CTO"}, format="json")
    assert same.status_code == 200 and Contact.objects.count() == 1
    duplicate = api.post("/api/v1/contacts/", {"email": "ADA@example.com", "account": account.external_id},
                         format="json")  # fmt: skip
    assert "upsert it by email" in duplicate.json()["email"][0]
    gone = api.post(f"/api/v1/contacts/{made.json()['id']}/unsubscribe/").json()
    assert gone["unsubscribed_at"] is not None


def test_responses_filter_and_page_by_cursor_without_test_sends(admin_user, csm, contact, other_contact):
    program = ProgramFactory()
    for score in (0, 6, 8, 10):
        submit_answer(invitation=InvitationFactory(contact=contact, program=program), score=score, reason=f"s{score}")
    submit_answer(invitation=InvitationFactory(contact=other_contact, program=program), score=3, reason="other")
    submit_answer(invitation=InvitationFactory(contact=contact, program=program, is_test=True), score=1, reason="t")
    api = _api(admin_user)
    detractors = api.get("/api/v1/responses/", {"category": "detractor"}).json()["results"]
    assert sorted(r["reason"] for r in detractors) == ["other", "s0", "s6"]  # the test send is not there
    assert [r["score"] for r in api.get("/api/v1/responses/", {"score_min": 7, "score_max": 9}).json()["results"]] == [
        8
    ]
    seen, url = [], "/api/v1/responses/?page_size=2"
    while url:
        page = api.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5
    # the CSM sees their team's answers only, with the segment snapshot
    mine = _api(csm, "read").get("/api/v1/responses/").json()["results"]
    assert {r["account"] for r in mine} == {contact.account.external_id} and "segment" in mine[0]
    assert api.get("/api/v1/responses/", {"submitted_after": "2026-01-01T00:00:00-20:40"}).status_code == 200


def test_programs_waves_and_invitations_read(admin_user, contact):
    program = ProgramFactory(name="Quarterly")
    InvitationFactory(contact=contact, program=program)
    api = _api(admin_user, "read")
    assert [p["name"] for p in api.get("/api/v1/programs/").json()["results"]] == ["Quarterly"]
    invitations = api.get("/api/v1/invitations/", {"program": program.pk}).json()["results"]
    assert [i["contact"] for i in invitations] == [contact.email]
    assert api.get("/api/v1/waves/").status_code == 200


def test_task_actions_through_the_api(admin_user, csm, other_csm, contact):
    submit_answer(invitation=InvitationFactory(contact=contact, program=ProgramFactory()), score=2, reason="Slow")
    task = Task.objects.get()
    api = _api(csm)
    refused = api.post(f"/api/v1/tasks/{task.pk}/assign/", {"assignee": other_csm.email}, format="json")
    assert refused.status_code == 400 and "assignee" in refused.json()
    logged = api.post(f"/api/v1/tasks/{task.pk}/outreach/", {"channel": "call", "note": "Left a voicemail"},
                      format="json").json()  # fmt: skip
    assert logged["first_contact_at"] is not None
    assert api.post(f"/api/v1/tasks/{task.pk}/notes/", {"text": "Promised a fix"}, format="json").status_code == 200
    blank = api.post(f"/api/v1/tasks/{task.pk}/loop-email/", {"subject": "Hi", "body": "We fixed [[what]]."},
                     format="json")  # fmt: skip
    assert blank.status_code == 400 and "[[what]]" in blank.json()["detail"]
    wrong = api.post(f"/api/v1/tasks/{task.pk}/close/", {"outcome": "review_posted"}, format="json")
    assert wrong.status_code == 400 and "outcome" in wrong.json()["detail"]
    closed = api.post(f"/api/v1/tasks/{task.pk}/close/", {"outcome": "recovered", "detail": "Fixed"}, format="json")
    assert closed.json()["status"] == "closed"
    kinds = [e["kind"] for e in closed.json()["timeline"]]
    assert kinds[-3:] == ["outreach", "note", "closed"]
    assert _api(csm, "read").post(f"/api/v1/tasks/{task.pk}/notes/", {"text": "x"}, format="json").status_code == 403
    assert _api(other_csm).post(f"/api/v1/tasks/{task.pk}/notes/", {"text": "x"}, format="json").status_code == 404
