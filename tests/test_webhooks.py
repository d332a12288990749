"""Outgoing webhooks against a real local HTTP receiver: signed, durable, retried, turned off when dead."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create
from followups import services as followup_services
from followups.models import Outcome, Task
from integrations import webhooks
from integrations.models import Delivery, DeliveryStatus, Subscription
from outbox.services import emails_send_due

from .factories import ContactFactory, InvitationFactory, ProgramFactory, UserFactory, submit_answer


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST, answers with the next queued status (200 after)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver is down for maintenance")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/rebound"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    r = Receiver()
    yield r
    r.stop()


def _subscribe(receiver, events=("response.created", "task.created")) -> Subscription:
    return Subscription.objects.create(url=receiver.url, events=list(events))


def test_an_answer_reaches_the_receiver_signed_once(receiver, contact, csm):
    subscription = _subscribe(receiver)
    invitation = InvitationFactory(contact=contact, program=ProgramFactory())
    response = submit_answer(invitation=invitation, score=2, reason="Exports time out").response
    assert Delivery.objects.count() == 2  # response.created, task.created
    assert webhooks.deliver_due(seconds=5) == {"delivered": 2, "retrying": 0, "failed": 0}
    assert sorted(receiver.events()) == ["response.created", "task.created"]
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        assert webhooks.verify(subscription.secret, body, headers["Rebound-Signature"])
        assert not webhooks.verify("whsec_someone-else", body, headers["Rebound-Signature"])
        assert not webhooks.verify(subscription.secret, body + b" ", headers["Rebound-Signature"])
        assert headers["Rebound-Delivery"] == json.loads(body)["id"]
    created = next(json.loads(r["body"]) for r in receiver.requests if b"response.created" in r["body"])
    data = created["data"]
    assert (data["id"], data["score"], data["category"], data["reason"]) == (
        response.pk,
        2,
        "detractor",
        "Exports time out",
    )
    assert data["account"]["external_id"] == contact.account.external_id and data["stream"] == "relationship"
    # A replayed signature is refused after five minutes.
    old = receiver.requests[0]
    later = int(old["headers"]["Rebound-Signature"].split(",")[0][2:]) + 301
    assert not webhooks.verify(subscription.secret, old["body"], old["headers"]["Rebound-Signature"], now=later)
    # Routing the same answer again (a retried task) emits nothing new: one delivery per event.
    webhooks.event_emit("response.created", response)
    assert Delivery.objects.count() == 2
    assert webhooks.deliver_due(seconds=5)["delivered"] == 0 and len(receiver.requests) == 2


def test_a_failing_receiver_is_retried_with_backoff_then_delivered(receiver, contact):
    _subscribe(receiver, ["contact.unsubscribed"])
    receiver.statuses = [500, 503]
    from surveys import services as survey_services

    survey_services.contact_unsubscribe(contact=contact)
    now = timezone.now()
    assert webhooks.deliver_due(seconds=5, now=now)["retrying"] == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 1, 500)
    assert delivery.last_response == "receiver is down for maintenance"
    assert delivery.next_attempt_at >= now + timedelta(minutes=1)
    assert webhooks.deliver_due(seconds=5, now=now)["retrying"] == 0  # not due yet
    with time_machine.travel(now + timedelta(minutes=1, seconds=5)):
        assert webhooks.deliver_due(seconds=5)["retrying"] == 1  # 503; next in 2 minutes
    with time_machine.travel(now + timedelta(minutes=4)):
        assert webhooks.deliver_due(seconds=5)["delivered"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 3)
    assert receiver.events() == ["contact.unsubscribed"] * 3
    assert json.loads(receiver.requests[-1]["body"])["data"]["email"] == contact.email


def test_a_dead_receiver_is_turned_off_and_the_admins_told(receiver, contact, monkeypatch, settings):
    monkeypatch.setattr(webhooks, "DISABLE_AFTER", 3)
    admin = UserFactory(role=Role.ADMIN, team=None, email="boss@example.com")
    subscription = _subscribe(receiver, ["contact.unsubscribed"])
    receiver.statuses = [500] * 10
    for person in ContactFactory.create_batch(3, account=contact.account):
        from surveys import services as survey_services

        survey_services.contact_unsubscribe(contact=person)
    assert webhooks.deliver_due(seconds=5)["retrying"] == 3
    subscription.refresh_from_db()
    assert not subscription.is_active and "3 failed attempts in a row" in subscription.disabled_reason
    mail.outbox.clear()
    emails_send_due(seconds=5)
    (told,) = [m for m in mail.outbox if m.to == [admin.email]]
    assert "Webhook turned off" in told.subject and receiver.url in told.body
    # Nothing is sent while it is off; events keep queuing.
    survey_services.contact_unsubscribe(contact=contact)
    assert webhooks.deliver_due(seconds=5) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 4


def test_admins_manage_webhooks_in_the_ui_with_field_errors_and_redeliver(receiver, client, admin_user, settings):
    client.force_login(admin_user)
    refused = client.post(reverse("integrations:webhook_create"), {"url": "ftp://example.com/x", "events": []})
    errors = refused.context["form"].errors
    assert "Use an https:// URL." in errors["url"] and "events" in errors
    settings.WEBHOOK_ALLOW_PRIVATE = False
    refused = client.post(reverse("integrations:webhook_create"), {"url": "https://127.0.0.1/x", "events": ["ping"]})
    assert "private or local address" in str(refused.context["form"].errors["url"])
    settings.WEBHOOK_ALLOW_PRIVATE = True
    created = client.post(
        reverse("integrations:webhook_create"),
        {"url": receiver.url, "format": "json", "events": ["task.closed"], "description": "CRM", "is_active": "on"},
        follow=True,
    )
    subscription = Subscription.objects.get()
    assert subscription.secret in created.content.decode()  # shown once …
    page = client.get(reverse("integrations:webhook_detail", args=[subscription.pk])).content.decode()
    assert subscription.secret not in page  # … and never again
    client.post(reverse("integrations:webhook_test", args=[subscription.pk]))
    webhooks.deliver_due(seconds=5)
    assert receiver.events() == ["ping"]
    ping = Delivery.objects.get()
    client.post(reverse("integrations:delivery_redeliver", args=[ping.pk]))
    webhooks.deliver_due(seconds=5)
    assert receiver.events() == ["ping", "ping"]
    first, second = (json.loads(r["body"])["id"] for r in receiver.requests)
    assert first == second  # the same event: receivers deduplicate on its id
    assert "HTTP 200" in client.get(reverse("integrations:webhook_detail", args=[subscription.pk])).content.decode()


def test_task_events_follow_the_task(receiver, contact, csm):
    _subscribe(receiver, ["task.created", "task.breached", "task.closed"])
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        submit_answer(invitation=InvitationFactory(contact=contact, program=ProgramFactory()), score=4, reason="")
    task = Task.objects.get()
    assert followup_services.escalate_due() == 1
    followup_services.task_close(task=task, actor=csm, outcome=Outcome.RECOVERED)
    webhooks.deliver_due(seconds=5)
    assert receiver.events() == ["task.created", "task.breached", "task.closed"]
    closed = json.loads(receiver.requests[-1]["body"])["data"]
    assert (closed["status"], closed["outcome"]) == ("closed", "recovered") and closed["url"].endswith(f"/{task.pk}/")


def test_the_api_manages_subscriptions_and_returns_the_secret_once(receiver, admin_user, csm):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='ops')[1]}")
    refused = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["nope"]}, format="json")
    assert refused.status_code == 400 and "events" in refused.json()
    created = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["task.created"]}, format="json")
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [s["url"] for s in listed] == [receiver.url] and "secret" not in listed[0]
    pk = created.json()["id"]
    assert api.patch(f"/api/v1/webhooks/{pk}/", {"is_active": False}, format="json").json()["is_active"] is False
    assert api.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=csm, name='crm')[1]}")
    assert api.get("/api/v1/webhooks/").status_code == 403


# Slack and Microsoft Teams


def test_slack_hears_of_new_detractors_of_its_team_with_the_verbatim_escaped(receiver, contact, other_contact, csm):
    contact.account.arr = 20800
    contact.account.save()
    Subscription.objects.create(url=receiver.url, format="slack", team=csm.team, events=["task.created"])
    program = ProgramFactory()
    submit_answer(
        invitation=InvitationFactory(contact=contact, program=program),
        score=1,
        reason="<!channel> <https://evil.example|Click>",
    )
    submit_answer(invitation=InvitationFactory(contact=contact, program=program), score=7, reason="")  # a check-in
    submit_answer(invitation=InvitationFactory(contact=other_contact, program=program), score=2, reason="Other team")
    webhooks.deliver_due(seconds=5)
    (message,) = [json.loads(r["body"]) for r in receiver.requests]
    assert message["text"].startswith("New Detractor: 1/10 from ")
    section = message["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &lt;https://evil.example|Click&gt;" in section and "<!channel>" not in section
    assert "ARR 20,800" in section
    button = message["blocks"][1]["elements"][0]
    assert button["url"].startswith("http://testserver/tasks/")


def test_teams_gets_a_card_for_breaches_and_decline_alerts(receiver, contact, csm):
    Subscription.objects.create(url=receiver.url, format="teams", events=["task.breached", "alert.decline"])
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        submit_answer(invitation=InvitationFactory(contact=contact, program=ProgramFactory()), score=4, reason="*Slow*")
    followup_services.escalate_due()
    from insights.nps import Score
    from insights.services import _raise

    _raise("relationship", None, "region", "EMEA", "2026-Q3", [Score(10, 0, 0), Score(5, 0, 5), Score(0, 0, 10)])
    webhooks.deliver_due(seconds=5)
    breach, alert = (json.loads(r["body"]) for r in receiver.requests)
    assert breach["@type"] == "MessageCard" and breach["title"].startswith("SLA breached: recovery task for ")
    assert "“\\*Slow\\*”" in breach["text"]  # markdown in customer text is shown, not applied
    assert breach["potentialAction"][0]["targets"][0]["uri"].startswith("http://testserver/tasks/")
    assert alert["title"] == "Decline alert: region “EMEA”" and "100 → 0 → \\-100" in alert["text"]


def test_a_chat_webhook_takes_only_the_chat_events(receiver, client, admin_user):
    client.force_login(admin_user)
    refused = client.post(
        reverse("integrations:webhook_create"),
        {"url": receiver.url, "format": "slack", "events": ["task.created", "response.created"], "is_active": "on"},
    )
    assert "untick response.created" in str(refused.context["form"].errors["events"])


def _json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, so jsonschema can check a body."""
    if isinstance(node, dict):
        node = {k: _json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False):
            node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def test_every_event_body_matches_its_schema_in_the_openapi_document(receiver, client, admin_user, contact, csm):
    """The bodies are stable: each event type is described under x-webhooks, and real events of
    each type validate against it (no field missing, none undocumented)."""
    import jsonschema

    from insights.models import Alert

    client.force_login(admin_user)
    document = client.get(reverse("api_schema"), HTTP_ACCEPT="application/json").json()
    assert set(document["x-webhooks"]) == {value for value, _ in webhooks.EventType.choices}
    subscription = _subscribe(receiver, [value for value, _ in webhooks.EventType.choices if value != "ping"])

    with time_machine.travel(timezone.now() - timedelta(days=3)):
        response = submit_answer(invitation=InvitationFactory(contact=contact), score=1, reason="<b>Slow</b>").response
    followup_services.escalate_due()  # task.breached
    followup_services.task_close(task=Task.objects.get(), actor=csm, outcome=Outcome.RECOVERED)
    webhooks.event_emit("response.updated", response, version="2")
    alert = Alert.objects.create(stream="relationship", dimension="region", value="EMEA", period="2026-Q3",
                                 nps_values=[30, 12.5, -4])  # fmt: skip
    webhooks.event_emit("alert.decline", alert)
    contact.bounced_at, contact.bounce_reason = timezone.now(), "550 no such user"
    webhooks.event_emit("contact.bounced", contact)
    from surveys import services as survey_services

    survey_services.contact_unsubscribe(contact=contact)
    webhooks.ping(subscription)

    components = _json_schema(document["components"])
    seen = set()
    for delivery in Delivery.objects.all():
        operation = document["x-webhooks"][delivery.event_type]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = {**components["schemas"][ref.rsplit("/", 1)[1]], "components": components}
        jsonschema.validate(delivery.payload, schema)
        assert operation["parameters"][0]["name"] == "Rebound-Signature"
        seen.add(delivery.event_type)
    assert seen == set(document["x-webhooks"])
