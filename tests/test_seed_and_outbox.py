import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Team, User
from customers.models import Account, Contact
from outbox.models import CaughtEmail


def snapshot():
    return {
        "users": list(User.objects.order_by("email").values("email", "name", "role", "team__name", "password")),
        "teams": list(Team.objects.order_by("name").values()),
        "accounts": list(Account.objects.filter(is_test=False).order_by("external_id").values()),
        "contacts": list(Contact.objects.filter(account__is_test=False).order_by("email").values()),
    }


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_data(capsys):
    call_command("seed_demo")
    first = snapshot()
    out = capsys.readouterr().out
    assert "admin@example.com" in out
    assert "rebound-admin" in out
    assert "Try it yourself" in out
    call_command("seed_demo")
    assert snapshot() == first
    assert 140 <= len(first["accounts"]) <= 160
    assert 700 <= len(first["contacts"]) <= 900
    assert {u["role"] for u in first["users"]} == {"admin", "manager", "csm"}
    assert len(first["teams"]) == 2
    assert len({a["segment"] for a in first["accounts"]}) == 3
    assert len({a["region"] for a in first["accounts"]}) >= 3


@pytest.mark.django_db
def test_the_demo_outbox_holds_a_survey_email_to_the_admin_whose_links_work(client, settings):
    import re

    from outbox.services import emails_send_due
    from surveys.models import Invitation, Response

    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"
    call_command("seed_demo")
    emails_send_due()  # what the worker does as soon as it starts
    caught = CaughtEmail.objects.get(to="admin@example.com", subject__startswith="[Test]")
    link = re.search(r'href="https?://[^/"]+(/s/[0-9a-f]+/)\?score=9"', caught.body_html).group(1)
    assert client.post(link, {"score": 9, "reason": "Nice demo"}).status_code == 302
    assert Response.objects.get(invitation__is_test=True).reason == "Nice demo"
    call_command("seed_demo")
    assert Invitation.objects.filter(is_test=True).count() == 1  # once


@pytest.mark.django_db
def test_demo_admin_can_log_in(client):
    call_command("seed_demo")
    # Through the login form, as a person would (django-axes counts the attempt per request).
    signed_in = client.post(reverse("login"), {"username": "admin@example.com", "password": "rebound-admin"})
    assert signed_in.status_code == 302
    assert client.get(reverse("customers:account_list")).status_code == 200


@pytest.mark.django_db
def test_dev_outbox_stores_mail_and_shows_it_to_admins(client, admin_user, settings):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"
    message = mail.EmailMultiAlternatives(
        "How did we do?",
        "Answer: http://testserver/s/abc",
        "nps@example.com",
        ["pat@example.com"],
        headers={"List-Unsubscribe": "<http://testserver/u/abc>"},
    )
    message.attach_alternative("<p><a href='http://testserver/s/abc'>7</a><script>alert(1)</script></p>", "text/html")
    message.send()
    email = CaughtEmail.objects.get()
    assert email.to == "pat@example.com"
    assert email.headers["List-Unsubscribe"] == "<http://testserver/u/abc>"
    client.force_login(admin_user)
    listing = client.get(reverse("outbox:list")).content.decode()
    assert "How did we do?" in listing
    detail = client.get(reverse("outbox:detail", args=[email.pk])).content.decode()
    assert 'href="http://testserver/s/abc"' in detail
    html = client.get(reverse("outbox:html", args=[email.pk]))
    assert "sandbox" in html["Content-Security-Policy"]
    assert "script-src 'none'" in html["Content-Security-Policy"]


@pytest.mark.django_db
def test_outbox_pages_are_gone_when_real_mail_is_configured(client, admin_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    client.force_login(admin_user)
    assert client.get(reverse("outbox:list")).status_code == 404
