"""POST /api/v1/events/ — transactional surveys triggered by other systems."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create, api_token_revoke
from customers.models import Account, Contact
from surveys import services
from surveys.models import Event, Invitation

from .factories import ContactFactory, InvitationFactory, TransactionalProgramFactory, UserFactory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def api(admin_user):
    _token, key = api_token_create(user=admin_user, name="helpdesk")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def program(db):
    return TransactionalProgramFactory(event_types=["ticket_resolved", "onboarding_completed"], delay_minutes=60)


def event(**overrides):
    payload = {
        "type": "ticket_resolved",
        "contact": {"email": "Pat@Newco.example.com", "name": "Pat New"},
        "account": {"external_id": "CRM-77", "name": "Newco"},
        "occurred_at": NOW.isoformat(),
        "properties": {"ticket_id": "T-1", "touchpoint": "ticket", "channel": "chat", "agent": "Sam"},
    }
    payload.update(overrides)
    return payload


def post(api, payload, now=NOW):
    with time_machine.travel(now, tick=False):
        return api.post("/api/v1/events/", payload, format="json")


def test_an_event_schedules_an_invitation_and_creates_unknown_customers(api, program):
    response = post(api, event())
    assert response.status_code == 202
    body = response.json()
    invitation = Invitation.objects.get(pk=body["invitation"])
    assert body == {"status": "scheduled", "invitation": invitation.pk, "send_at": "2026-11-02T11:00:00+00:00"}
    assert invitation.stream == "transactional"
    assert invitation.properties == {"ticket_id": "T-1", "touchpoint": "ticket", "channel": "chat", "agent": "Sam"}
    assert Account.objects.get(external_id="CRM-77").name == "Newco"
    assert Contact.objects.get(email="pat@newco.example.com").name == "Pat New"
    assert invitation.event.type == "ticket_resolved"


def test_delay_minutes_zero_sends_at_the_next_tick(api, program, django_capture_on_commit_callbacks):
    response = post(api, event(delay_minutes=0))
    assert response.json()["send_at"] == NOW.isoformat()
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.tick()
    assert [m.to for m in mail.outbox] == [["pat@newco.example.com"]]


def test_the_send_waits_for_the_programs_delay(api, program, django_capture_on_commit_callbacks):
    post(api, event())
    for minutes, expected in ((59, 0), (60, 1)):
        with (
            time_machine.travel(NOW + timedelta(minutes=minutes), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.tick()
        assert len(mail.outbox) == expected


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("no_program", "no_program"),
        ("paused", "program_paused"),
        ("unsubscribed", "unsubscribed"),
        ("quiet", "quiet_period"),
        ("capped", "cap_reached"),
    ],
)
def test_skips_say_why(api, program, setup, reason):
    payload = event()
    if setup == "no_program":
        payload["type"] = "milestone_reached"
    elif setup == "paused":
        program.is_active = False
        program.save()
    elif setup == "unsubscribed":
        ContactFactory(email="pat@newco.example.com", unsubscribed_at=NOW - timedelta(days=1))
    elif setup == "quiet":
        contact = ContactFactory(email="pat@newco.example.com")
        InvitationFactory(program=program, contact=contact, when=NOW - timedelta(days=3))
    elif setup == "capped":
        program.cap_per_contact, program.quiet_period_days = 1, 0
        program.save()
        contact = ContactFactory(email="pat@newco.example.com")
        InvitationFactory(program=program, contact=contact, when=NOW - timedelta(days=30))
    response = post(api, payload)
    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert response.json()["reason"] == reason
    assert Event.objects.filter(skip_reason=reason).count() == 1


def test_a_duplicate_idempotency_key_is_skipped(api, program):
    assert post(api, event(idempotency_key="zendesk-T-1")).status_code == 202
    again = post(api, event(idempotency_key="zendesk-T-1"))
    assert again.status_code == 200
    assert again.json()["reason"] == "duplicate"
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (event(type="bad type!"), "type"),
        (event(contact={"email": "not-an-email"}), "contact"),
        (event(account={}), "account"),
        (event(occurred_at="yesterday"), "occurred_at"),
        (event(occurred_at=(NOW + timedelta(days=2)).isoformat()), "occurred_at"),
        (event(delay_minutes=-5), "delay_minutes"),
        (event(properties=["not", "a", "dict"]), "properties"),
    ],
)
def test_a_bad_payload_gets_field_errors(api, program, payload, field):
    response = post(api, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert Event.objects.count() == 0


def test_tokens_and_roles(program, csm):
    anonymous = APIClient()
    assert post(anonymous, event()).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token rb_forged")
    assert post(wrong, event()).status_code == 401
    _token, key = api_token_create(user=csm, name="csm")
    as_csm = APIClient()
    as_csm.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert post(as_csm, event()).status_code == 403
    admin = UserFactory(email="admin2@example.com", role=Role.ADMIN, team=None)
    token, key = api_token_create(user=admin, name="admin")
    as_admin = APIClient()
    as_admin.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert post(as_admin, event()).status_code == 202
    api_token_revoke(token=token)
    assert post(as_admin, event(idempotency_key="x")).status_code == 401


def test_create_api_token_command_prints_a_working_token(program, admin_user, capsys):
    call_command("create_api_token", "ADMIN@example.com")
    key = capsys.readouterr().out.split()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert post(client, event()).status_code == 202


def test_admins_create_and_revoke_tokens_in_the_ui(client, admin_user, csm):
    client.force_login(admin_user)
    response = client.post("/api-tokens/", {"name": "Zendesk", "user": admin_user.pk, "scope": "write"})
    key = response.context["key"]
    assert key in response.content.decode()
    token = admin_user.api_tokens.get()
    assert token.key_hash != key
    assert key not in client.get("/api-tokens/").content.decode()  # shown once
    client.post(f"/api-tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
