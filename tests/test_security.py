"""Login protection, two-factor sign-in, the audit trail and the data-protection tools."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import audit
from accounts.models import AuditEntry, Role, SecuritySettings
from accounts.services import api_token_create
from customers.models import Contact
from followups.models import Task, TaskEvent
from outbox.models import OutgoingEmail
from surveys.models import Referral, Response

from .factories import ContactFactory, InvitationFactory, ProgramFactory, submit_answer


def _login(client, email, password="pw", **extra):  # noqa: S107 - the factories' test password
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


# Login throttling -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_account_even_with_the_right_one(client, csm, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert _login(client, "csm@example.com", "wrong").status_code == 200  # the form again, with its error
    assert _login(client, "csm@example.com", "wrong").status_code == 429  # the fifth failure locks
    locked = _login(client, "csm@example.com", "pw")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_locked_out(client, csm, manager, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for n in range(5):
        _login(client, f"guess{n}@example.com", "wrong", REMOTE_ADDR="203.0.113.9")
    assert _login(client, "manager@example.com", "pw", REMOTE_ADDR="203.0.113.9").status_code == 429
    assert _login(client, "manager@example.com", "pw", REMOTE_ADDR="198.51.100.1").status_code == 302


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cooloff_or_when_an_admin_unlocks(client, csm, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            _login(client, "csm@example.com", "wrong")
        assert _login(client, "csm@example.com", "pw").status_code == 429
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(seconds=1), tick=False):
        assert _login(client, "csm@example.com", "pw").status_code == 302
    client.post(reverse("logout"))
    for _ in range(3):
        _login(client, "csm@example.com", "wrong")
    assert _login(client, "csm@example.com", "pw").status_code == 429

    admin = type(client)()
    admin.force_login(admin_user)
    page = admin.get(reverse("accounts:security")).content.decode()
    assert "csm@example.com" in page and "Unlock account" in page
    admin.post(reverse("accounts:lockout_reset"), {"username": "csm@example.com"})
    assert _login(client, "csm@example.com", "pw").status_code == 302
    entry = AuditEntry.objects.get(action="login.unlock")
    assert (entry.actor, entry.target_label) == (admin_user, "account csm@example.com")


# Two-factor sign-in -------------------------------------------------------------------------------


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


@pytest.mark.django_db
def test_setting_up_two_factor_then_every_sign_in_asks_for_a_code(client, csm):
    client.force_login(csm)
    setup = client.get(reverse("two_factor_setup"))
    assert b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=csm, confirmed=False)
    wrong = client.post(reverse("two_factor_setup"), {"code": "000000" if _code(device) != "000000" else "111111"})
    assert b"doesn" in wrong.content
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):  # django-otp throttles after a failure
        client.post(reverse("two_factor_setup"), {"code": _code(device)})
    assert TOTPDevice.objects.get(user=csm).confirmed
    assert AuditEntry.objects.filter(action="two_factor.enable", actor=csm).exists()

    client.post(reverse("logout"))
    assert _login(client, "csm@example.com").status_code == 302
    home = client.get(reverse("followups:my_tasks"))
    assert home.status_code == 302
    assert home.url.startswith(reverse("two_factor_verify"))
    with time_machine.travel(timezone.now() + timedelta(seconds=65)):
        device.refresh_from_db()
        verified = client.post(
            reverse("two_factor_verify") + "?next=/tasks/", {"code": _code(device), "next": "/tasks/"}
        )
    assert verified.status_code == 302
    assert verified.url == "/tasks/"
    assert client.get(reverse("followups:my_tasks")).status_code == 200


@pytest.mark.django_db
def test_an_admin_can_require_two_factor_for_all_staff(client, csm, admin_user):
    admin = type(client)()
    admin.force_login(admin_user)
    admin.post(reverse("accounts:security"), {"require_two_factor": "on"})
    assert SecuritySettings.current().require_two_factor
    assert AuditEntry.objects.get(action="security.update").changes == [("require_two_factor", False, True)]
    client.force_login(csm)
    response = client.get(reverse("customers:account_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_setup"))
    assert client.post(reverse("two_factor_disable")).status_code == 302
    # customer pages and the token API are not affected
    program = ProgramFactory()
    invitation = InvitationFactory(program=program, contact=ContactFactory())
    assert client.get(reverse("surveys:answer", args=[invitation.token])).status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=csm, name='crm')[1]}")
    assert api.get(reverse("api:tasks")).status_code == 200


@pytest.mark.django_db
def test_an_admin_resets_a_lost_authenticator(client, csm, admin_user):
    TOTPDevice.objects.create(user=csm, name="phone", confirmed=True)
    client.force_login(admin_user)
    client.post(reverse("accounts:user_two_factor_reset", args=[csm.pk]))
    assert not TOTPDevice.objects.filter(user=csm).exists()
    assert AuditEntry.objects.filter(action="two_factor.reset", target_id=str(csm.pk)).exists()


# Audit trail ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_writes_are_audited_with_before_and_after(client, admin_user, csm, team):
    client.force_login(admin_user)
    client.post(
        reverse("accounts:user_edit", args=[csm.pk]),
        {"email": "csm@example.com", "name": "Renamed", "role": Role.MANAGER, "team": team.pk, "is_active": "on"},
    )
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.actor == admin_user
    assert entry.ip == "127.0.0.1"
    assert ("role", "csm", "manager") in entry.changes
    assert not any(name == "password" for name, _, _ in entry.changes)
    client.post(reverse("accounts:token_list"), {"name": "CRM", "user": csm.pk, "scope": "read"})
    assert AuditEntry.objects.filter(action="api_token.create").exists()
    page = client.get(reverse("accounts:audit_list"), {"action": "user"}).content.decode()
    assert "user.update" in page and "api_token.create" not in page


@pytest.mark.django_db
def test_task_actions_and_staff_unsubscribes_are_audited(client, csm, contact):
    program = ProgramFactory()
    response = submit_answer(invitation=InvitationFactory(program=program, contact=contact), score=2, reason="x")
    task = response.response.tasks.get()
    client.force_login(csm)
    client.post(reverse("followups:task_note", args=[task.pk]), {"text": "Called, left a message"})
    client.post(reverse("followups:task_assign", args=[task.pk]), {"assignee": ""})
    client.post(reverse("customers:contact_unsubscribe", args=[contact.pk]))
    actions = set(AuditEntry.objects.filter(actor=csm).values_list("action", flat=True))
    assert {"task.note", "task.assigned", "contact.unsubscribe"} <= actions
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None


@pytest.mark.django_db
def test_the_audit_trail_is_append_only_and_pruned_after_its_retention(admin_user, settings):
    old = audit.record(admin_user, "program.update", label="Old")
    with pytest.raises(TypeError):
        old.save()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=old.pk).update(action="forged")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    if connection.vendor == "postgresql":  # the database refuses too, whatever the code does
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_auditentry SET action = 'forged'")
    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        recent = audit.record(admin_user, "program.update", label="Recent")
        assert audit.prune() == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]


# Data protection --------------------------------------------------------------------------------


@pytest.fixture
def answered(db, contact, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    contact.name, contact.title, contact.properties = "Qwyzz Lovelace", "CTO", {"phone": "+44 1"}
    contact.save()
    program = ProgramFactory()
    response = submit_answer(
        invitation=InvitationFactory(program=program, contact=contact), score=3, reason="Qwyzz here: too slow"
    ).response
    Referral.objects.create(response=response, name="Charles", email="charles@example.com")
    task = response.tasks.get()
    TaskEvent.objects.create(task=task, kind="note", text="Qwyzz said call her on +44 1")
    OutgoingEmail.objects.create(key="x", kind="loop", to=contact.email, subject="Hi Qwyzz", body_text="Dear Qwyzz")
    return response


@pytest.mark.django_db
def test_erasing_a_contact_removes_their_data_and_keeps_the_figures(client, admin_user, contact, answered):
    before = Response.objects.filter(pk=answered.pk).values("score", "category", "segment", "team_id").get()
    client.force_login(admin_user)
    assert client.post(reverse("customers:contact_erase", args=[contact.pk]), {"confirm": "no"}).status_code == 200
    client.post(reverse("customers:contact_erase", args=[contact.pk]), {"confirm": "erase"})
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.erased_at and contact.unsubscribed_at
    assert (contact.name, contact.title, contact.properties) == ("", "", {})
    assert contact.email == f"erased-{contact.pk}@erased.invalid"
    answered.refresh_from_db()
    assert answered.reason == ""
    assert Response.objects.filter(pk=answered.pk).values("score", "category", "segment", "team_id").get() == before
    assert not Referral.objects.exists()
    assert not TaskEvent.objects.filter(text__contains="Qwyzz").exists()
    assert not OutgoingEmail.objects.filter(body_text__contains="Qwyzz").exists()
    assert Task.objects.filter(response=answered).exists()
    entry = AuditEntry.objects.get(action="contact.erase")
    assert "Qwyzz" not in json.dumps([entry.target_label, entry.before, entry.after])
    page = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "Erased contact" in page and "Qwyzz" not in page


@pytest.mark.django_db
def test_exporting_a_contact_gives_everything_held_about_them(client, admin_user, csm, contact, answered):
    client.force_login(admin_user)
    response = client.get(reverse("customers:contact_export", args=[contact.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["contact"]["name"] == "Qwyzz Lovelace"
    assert data["responses"][0]["reason"] == "Qwyzz here: too slow"
    assert data["referrals_made"][0]["email"] == "charles@example.com"
    assert {e["subject"] for e in data["emails"]} >= {"Hi Qwyzz"}
    assert AuditEntry.objects.filter(action="contact.export", actor=admin_user).exists()
    client.force_login(csm)
    assert client.get(reverse("customers:contact_export", args=[contact.pk])).status_code == 403


@pytest.mark.django_db
def test_export_and_erase_through_the_api(admin_user, csm, contact, answered):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='dsr')[1]}")
    exported = api.get(reverse("api:contact_export"), {"email": contact.email.upper()})
    assert exported.status_code == 200
    assert exported.json()["contact"]["email"] == contact.email
    assert api.get(reverse("api:contact_export"), {"email": "nobody@example.com"}).status_code == 404
    assert api.post(reverse("api:contact_erase"), {}, format="json").json() == {
        "email": ["Give the contact's email or id."]
    }
    erased = api.post(reverse("api:contact_erase"), {"email": contact.email}, format="json")
    assert erased.status_code == 200
    assert Contact.objects.get(pk=contact.pk).erased_at is not None
    csm_api = APIClient()
    csm_api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=csm, name='x')[1]}")
    assert csm_api.post(reverse("api:contact_erase"), {"id": contact.pk}, format="json").status_code == 403


@pytest.mark.django_db
def test_retention_anonymises_old_verbatims_and_inactive_contacts(settings, account, answered):
    settings.DATA_RETENTION_MONTHS = 12
    recent_contact = ContactFactory(account=account, name="Recent Person")
    program = ProgramFactory()
    from customers.services import tick

    with time_machine.travel(timezone.now() + timedelta(days=200)):
        recent = submit_answer(
            invitation=InvitationFactory(program=program, contact=recent_contact), score=9, reason="Great"
        ).response
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        result = tick()
    assert result["anonymised_responses"] == 1
    assert result["erased_contacts"] == 1
    answered.refresh_from_db()
    recent.refresh_from_db()
    assert (answered.reason, answered.score) == ("", 3)
    assert recent.reason == "Great"
    assert Contact.objects.get(pk=answered.contact_id).erased_at is not None
    assert Contact.objects.get(pk=recent_contact.pk).erased_at is None
    assert AuditEntry.objects.filter(action="retention.anonymise").exists()
