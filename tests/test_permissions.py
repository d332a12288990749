"""Every staff URL, for every role: generated from the URL conf so a new page can't be forgotten."""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import PasswordResetRequest, Role
from accounts.permissions import ADMIN_ONLY, view_roles
from accounts.services import api_token_create
from customers.models import ImportJob
from insights.models import Theme
from integrations.models import Delivery, ExportJob, ExportStatus, Subscription
from outbox.models import CaughtEmail
from surveys.models import Wave

from .factories import InvitationFactory, ProgramFactory, submit_answer

# How to fill in the URL arguments of each named page. A new page with arguments must be added
# here, or test_every_url_is_covered fails.
URL_KWARGS = {
    "customers:account_detail": lambda f: {"pk": f["account"].pk},
    "customers:contact_detail": lambda f: {"pk": f["contact"].pk},
    "customers:import_detail": lambda f: {"pk": f["import_job"].pk},
    "customers:import_retry": lambda f: {"pk": f["import_job"].pk},
    "accounts:user_edit": lambda f: {"pk": f["csm"].pk},
    "accounts:team_edit": lambda f: {"pk": f["team"].pk},
    "accounts:user_two_factor_reset": lambda f: {"pk": f["csm"].pk},
    "customers:contact_unsubscribe": lambda f: {"pk": f["contact"].pk},
    "customers:contact_export": lambda f: {"pk": f["contact"].pk},
    "customers:contact_erase": lambda f: {"pk": f["contact"].pk},
    "outbox:detail": lambda f: {"pk": f["email"].pk},
    "surveys:brand_css": lambda f: {"version": "1"},
    "integrations:webhook_detail": lambda f: {"pk": f["subscription"].pk},
    "integrations:webhook_edit": lambda f: {"pk": f["subscription"].pk},
    "integrations:webhook_test": lambda f: {"pk": f["subscription"].pk},
    "integrations:delivery_redeliver": lambda f: {"pk": f["delivery"].pk},
    "integrations:export_download": lambda f: {"pk": f["export_job"].pk},
    "surveys:brand_logo": lambda f: {"version": "1"},
    "outbox:html": lambda f: {"pk": f["email"].pk},
    "password_reset_confirm": lambda f: {"uidb64": "MQ", "token": "set-password"},
    "accounts:token_revoke": lambda f: {"pk": f["api_token"].pk},
    "surveys:program_detail": lambda f: {"pk": f["program"].pk},
    "surveys:program_edit": lambda f: {"pk": f["program"].pk},
    "surveys:program_toggle": lambda f: {"pk": f["program"].pk},
    "surveys:program_preview": lambda f: {"pk": f["program"].pk},
    "surveys:program_preview_html": lambda f: {"pk": f["program"].pk},
    "surveys:program_test_send": lambda f: {"pk": f["program"].pk},
    "surveys:wave_send_now": lambda f: {"pk": f["program"].pk},
    "surveys:wave_detail": lambda f: {"pk": f["wave"].pk},
    "surveys:answer": lambda f: {"token": f["invitation"].token},
    "surveys:unsubscribe": lambda f: {"token": f["invitation"].token},
    "surveys:thanks": lambda f: {"token": f["invitation"].token},
    "surveys:improve": lambda f: {"token": f["invitation"].token},
    "surveys:refer": lambda f: {"token": f["invitation"].token},
    "surveys:questions": lambda f: {"token": f["invitation"].token},
    "surveys:program_questions": lambda f: {"pk": f["program"].pk},
    "surveys:program_share_link": lambda f: {"pk": f["program"].pk},
    "surveys:program_share_qr": lambda f: {"pk": f["program"].pk},
    "surveys:shared": lambda f: {"token": f["program"].share_token},
    "surveys:program_widget": lambda f: {"pk": f["program"].pk},
    "followups:task_detail": lambda f: {"pk": f["task"].pk},
    "followups:task_assign": lambda f: {"pk": f["task"].pk},
    "followups:task_outreach": lambda f: {"pk": f["task"].pk},
    "followups:task_note": lambda f: {"pk": f["task"].pk},
    "followups:task_close": lambda f: {"pk": f["task"].pk},
    "followups:task_email": lambda f: {"pk": f["task"].pk},
    "api:task_detail": lambda f: {"pk": f["task"].pk},
    "api:webhook_detail": lambda f: {"pk": f["subscription"].pk},
    "api:program_detail": lambda f: {"pk": f["program"].pk},
    "api:response_detail": lambda f: {"pk": f["task"].response_id},
    "api:account_detail": lambda f: {"pk": f["account"].pk},
    "api:account_upsert": lambda f: {"external_id": f["account"].external_id},
    "api:contact_detail": lambda f: {"pk": f["contact"].pk},
    "api:contact_upsert": lambda f: {"email": f["contact"].email},
    "api:contact_unsubscribe": lambda f: {"pk": f["contact"].pk},
    **{
        f"api:task_{name}": (lambda f: {"pk": f["task"].pk})
        for name in ("assign", "outreach", "notes", "close", "loop_email")
    },
    "insights:theme_verbatims": lambda f: {"pk": Theme.objects.first().pk},
    "insights:suggestion_decide": lambda f: {"pk": 1},  # POST-only: the role check comes first
    "insights:tag_correct": lambda f: {"pk": 1},
}
# Pages that only take a POST: the allowed roles get 405 on a GET, the others 403.
POST_ONLY = {
    "accounts:token_revoke", "surveys:program_toggle", "surveys:program_test_send", "followups:task_assign",
    "surveys:program_preview_live", "integrations:webhook_test", "integrations:delivery_redeliver",
    "followups:task_outreach", "followups:task_note", "followups:task_close", "followups:bulk_assign",
    "followups:digest_toggle", "customers:import_retry", "accounts:user_two_factor_reset", "accounts:lockout_reset",
    "customers:contact_unsubscribe", "two_factor_disable", "surveys:program_share_link", "surveys:program_widget",
    "insights:discovery_start", "insights:suggestion_decide", "insights:tag_correct", "insights:risk_train",
}  # fmt: skip
# Pages that anyone may open: the login and password-reset flow (and, later, the customer pages).
PUBLIC = {
    "login", "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
    "surveys:answer", "surveys:unsubscribe", "surveys:thanks", "surveys:improve", "surveys:refer",
    "surveys:questions", "surveys:shared", "surveys:brand_css", "surveys:widget_js", "surveys:widget_ask",
    "surveys:widget_answer", "surveys:widget_demo", "surveys:brand_logo",
}  # fmt: skip
EXPECTED_ADMIN_ONLY = {
    "customers:import_list", "customers:import_detail", "customers:import_retry", "accounts:user_list",
    "accounts:user_create",
    "accounts:user_edit", "accounts:team_create", "accounts:team_edit", "outbox:list", "outbox:detail", "outbox:html",
    "accounts:token_list", "accounts:token_revoke", "surveys:program_list", "surveys:program_create",
    "surveys:program_detail", "surveys:program_edit", "surveys:program_toggle", "surveys:program_preview",
    "surveys:program_preview_html", "surveys:program_test_send", "surveys:wave_send_now", "surveys:wave_detail",
    "followups:sla_policies", "followups:loop_templates", "insights:themes", "accounts:security",
    "accounts:lockout_reset",
    "accounts:user_two_factor_reset", "accounts:audit_list", "customers:contact_export", "customers:contact_erase",
    "surveys:branding", "surveys:program_preview_live", "integrations:webhook_list", "integrations:webhook_create",
    "integrations:webhook_detail", "integrations:webhook_edit", "integrations:webhook_test",
    "integrations:delivery_redeliver", "integrations:export_list", "integrations:export_download",
    "surveys:program_questions", "surveys:program_share_link", "surveys:program_share_qr", "surveys:program_widget",
    "insights:discovery", "insights:discovery_start", "insights:suggestion_decide", "insights:risk_train",
}  # fmt: skip


def staff_urls():
    """(url name, view) for every named page outside Django admin, the ESP webhooks and static files.

    The ESP webhooks (django-anymail) authenticate each request with their own secret; they are
    tested in tests/test_bounces.py."""

    def walk(resolver, namespace=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.app_name in {"admin", "anymail"}:
                    continue
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry, ns)
            elif isinstance(entry, URLPattern) and entry.name:
                yield f"{namespace}{entry.name}", entry.callback

    return sorted(set(walk(get_resolver())), key=lambda item: item[0])


ALL_URLS = staff_urls()


@pytest.fixture
def objects(account, contact, csm, team, admin_user, settings):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"
    job = ImportJob.objects.create(kind="accounts", file="imports/x.csv", filename="x.csv")
    email = CaughtEmail.objects.create(subject="Hi", from_email="a@example.com", to="b@example.com")
    program = ProgramFactory(share_token="permissions-test-shared-link")
    wave = Wave.objects.create(program=program, period="2026-Q4", scheduled_at=timezone.now())
    invitation = InvitationFactory(program=program, contact=contact, wave=wave)
    api_token, _key = api_token_create(user=admin_user, name="test")
    answered = InvitationFactory(program=program, contact=contact)
    response = submit_answer(invitation=answered, score=2, reason="Slow")
    task = response.response.tasks.get()
    subscription = Subscription.objects.create(url="https://hooks.example.com/rebound", events=["task.created"])
    delivery = Delivery.objects.create(subscription=subscription, event_id="evt_1", event_type="ping", payload={})
    export_job = ExportJob.objects.create(status=ExportStatus.DONE, expires_at=timezone.now())
    export_job.file.save("export.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    return {
        "account": account, "contact": contact, "csm": csm, "team": team, "import_job": job, "email": email,
        "program": program, "wave": wave, "invitation": invitation, "api_token": api_token, "task": task,
        "subscription": subscription, "delivery": delivery, "export_job": export_job,
    }  # fmt: skip


def url_for(name, objects):
    kwargs = URL_KWARGS[name](objects) if name in URL_KWARGS else {}
    return reverse(name, kwargs=kwargs)


def test_every_url_is_covered():
    for name, view in ALL_URLS:
        if name in PUBLIC or name.startswith("api:"):
            continue
        assert view_roles(view), f"{name} declares no roles; decorate it with @roles(...)"
    names = {name for name, _ in ALL_URLS}
    assert set(URL_KWARGS) <= names, "URL_KWARGS names a page that no longer exists"
    assert names >= EXPECTED_ADMIN_ONLY


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "view"), [u for u in ALL_URLS if u[0] not in PUBLIC], ids=lambda v: str(v))
def test_anonymous_is_sent_to_login(client, objects, name, view):
    url = url_for(name, objects)
    response = client.get(url)
    if name.startswith("api:") or name == "api_schema":  # API clients: 401/403, not a login page
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.CSM])
def test_each_role_against_each_staff_url(client, objects, users_by_role, role):
    client.force_login(users_by_role[role])
    for name, view in ALL_URLS:
        if name in PUBLIC or name.startswith("api:") or name == "logout":
            continue
        allowed = view_roles(view)
        response = client.get(url_for(name, objects))
        if role in allowed and name == "two_factor_verify":
            assert response.status_code == 302  # nothing to verify without an authenticator: on to Home
        elif role in allowed and name in POST_ONLY:
            assert response.status_code == 405, f"{role} on POST-only {name}: {response.status_code}"
        elif role in allowed:
            assert response.status_code == 200, f"{role} should open {name}, got {response.status_code}"
        else:
            assert response.status_code == 403, f"{role} must get 403 on {name}, got {response.status_code}"
        if name in EXPECTED_ADMIN_ONLY:
            assert tuple(allowed) == ADMIN_ONLY, f"{name} must be admin-only"


@pytest.mark.django_db
def test_a_view_without_roles_is_refused(rf, csm):
    from django.core.exceptions import PermissionDenied

    from accounts.permissions import RoleMiddleware

    def undeclared(request):
        raise AssertionError("must not run")

    request = rf.get("/x/")
    request.user = csm
    request.resolver_match = None
    with pytest.raises(PermissionDenied):
        RoleMiddleware(lambda r: None).process_view(request, undeclared, (), {})


@pytest.mark.django_db
def test_public_pages_need_no_login(client, objects):
    assert client.get(url_for("surveys:answer", objects)).status_code == 200
    assert client.get(url_for("surveys:unsubscribe", objects)).status_code == 200


@pytest.mark.django_db
def test_manager_and_csm_see_only_their_team(client, manager, csm, account, other_account, contact, other_contact):
    for user in (manager, csm):
        client.force_login(user)
        listing = client.get(reverse("customers:account_list")).content.decode()
        assert "Northwind" in listing
        assert "Southwind" not in listing
        assert client.get(reverse("customers:account_detail", args=[other_account.pk])).status_code == 404
        assert client.get(reverse("customers:contact_detail", args=[other_contact.pk])).status_code == 404
        contacts = client.get(reverse("customers:contact_list")).content.decode()
        assert contact.email in contacts
        assert other_contact.email not in contacts


@pytest.mark.django_db
def test_admin_sees_every_team(client, admin_user, account, other_account):
    client.force_login(admin_user)
    listing = client.get(reverse("customers:account_list")).content.decode()
    assert "Northwind" in listing
    assert "Southwind" in listing


@pytest.mark.django_db
def test_django_admin_is_for_admins_only(client, admin_user, csm):
    client.force_login(csm)
    assert client.get("/django-admin/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/django-admin/customers/account/").status_code == 200


@pytest.mark.django_db
def test_login_logout_and_password_reset(client, csm, mailoutbox, django_capture_on_commit_callbacks):
    from outbox.models import EmailStatus, OutgoingEmail

    response = client.post(reverse("login"), {"username": "CSM@example.com", "password": "pw"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
    with django_capture_on_commit_callbacks(execute=False) as wake_ups:
        known = client.post(reverse("password_reset"), {"email": "csm@example.com"})
    assert mailoutbox == []  # never looked up nor sent inside the request: stored …
    assert not OutgoingEmail.objects.filter(kind="password_reset").exists()
    assert PasswordResetRequest.objects.get().email == "csm@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        for wake_up in wake_ups:  # … worked by a worker: lookup, outbox, send
            wake_up()
    row = OutgoingEmail.objects.get(kind="password_reset")
    assert (row.to, row.status) == ("csm@example.com", EmailStatus.SENT)
    assert len(mailoutbox) == 1
    assert "/password/reset/" in mailoutbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert OutgoingEmail.objects.filter(kind="password_reset").count() == 1
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert not PasswordResetRequest.objects.filter(done_at__isnull=True).exists()


@pytest.mark.django_db
def test_password_reset_does_the_same_work_for_known_and_unknown_addresses(
    client, csm, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The timing leak had a cause: the lookup and the email in the request. Now both requests
    run the same statements; the worker does the rest."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements = []
    for email in ("csm@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=False):
            client.post(reverse("password_reset"), {"email": email})
        statements.append([q["sql"].split(" WHERE")[0].split(" VALUES")[0] for q in queries.captured_queries])
    assert statements[0] == statements[1]
    assert not any("accounts_user" in sql for sql in statements[0])


@pytest.mark.django_db
def test_repeated_reset_requests_send_one_email(client, csm, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            client.post(reverse("password_reset"), {"email": "csm@example.com"})
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_error_pages_match_the_layout(client, csm):
    client.force_login(csm)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"bootstrap.min.css" in response.content
    forbidden = client.get(reverse("accounts:user_list"))
    assert forbidden.status_code == 403
    assert b"access to this page" in forbidden.content


def test_createsuperuser_works(db):
    from django.core.management import call_command

    from accounts.models import User

    call_command("createsuperuser", interactive=False, email="root@example.com", verbosity=0)
    root = User.objects.get(email="root@example.com")
    assert root.is_superuser
    assert root.is_staff
    assert root.role == Role.ADMIN
