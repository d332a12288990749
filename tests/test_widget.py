"""The in-app widget (issue 15, item 4): signed identity, the same fatigue rules as email, channel in_app."""

import gzip
import json
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from followups.models import Task
from surveys import widget
from surveys.answers import responses_route_pending
from surveys.models import Response, Via

from .factories import ContactFactory, InvitationFactory, ProgramFactory, submit_answer

ORIGIN = "https://app.acme.example"


@pytest.fixture
def program(db):
    program = ProgramFactory(widget_origins=ORIGIN)
    widget.secret_create(program)
    return program


def call(client, name, body, origin=ORIGIN):
    return client.post(reverse(f"surveys:{name}"), json.dumps(body), content_type="text/plain", HTTP_ORIGIN=origin)


def signed(program, user, ts=None):
    ts = int(time.time()) if ts is None else ts
    return {
        "program": program.pk,
        "user": user,
        "ts": ts,
        "sig": widget.signature(program.widget_secret, program.pk, user, ts),
    }


def test_a_signed_user_is_asked_once_answers_in_app_and_the_task_opens(client, program, contact, csm):
    asked = call(client, "widget_ask", signed(program, contact.email))
    body = asked.json()
    assert asked.status_code == 200 and body["show"] and body["question"] == program.question_text
    assert asked["Access-Control-Allow-Origin"] == ORIGIN and not asked.cookies  # no cookies, ever
    again = call(client, "widget_ask", signed(program, contact.email.upper())).json()
    assert again["token"] == body["token"]  # the next page shows the same question, not a second one
    answered = call(client, "widget_answer", {"token": body["token"], "score": 2, "reason": "Too slow"})
    assert answered.json() == {"saved": True}
    responses_route_pending()
    response = Response.objects.get()
    assert (response.via, response.contact, response.score) == (Via.IN_APP, contact, 2)
    assert Task.objects.get(response=response).queue == "recovery"
    # Answered: the quiet period now holds, in the widget as for email.
    assert call(client, "widget_ask", signed(program, contact.email)).json() == {"show": False}


def test_forged_expired_or_foreign_identities_are_refused(client, program, contact):
    good = signed(program, contact.email)
    for body in (
        {**good, "user": "someone.else@customer.example.com"},  # the signature is for another user
        {**good, "sig": "0" * 64},
        signed(program, contact.email, ts=int(time.time()) - 2 * 86400),  # two days old
        {**good, "program": ProgramFactory().pk},  # a program without the widget
        {"program": "x"},
    ):
        refused = call(client, "widget_ask", body)
        assert refused.status_code == 403 and refused.json()["show"] is False
    assert call(client, "widget_answer", {"token": "nope", "score": 5}).status_code == 404
    # An emailed invitation's token is not a widget token.
    emailed = InvitationFactory(program=program, contact=contact)
    assert call(client, "widget_answer", {"token": emailed.token, "score": 5}).status_code == 404
    assert not Response.objects.exists()


def test_the_widget_respects_fatigue_across_streams_and_unknown_users(client, program, contact):
    other = ContactFactory(email="recent@customer.example.com")
    submit_answer(invitation=InvitationFactory(contact=other), score=9, reason="")  # another program, just now
    assert call(client, "widget_ask", signed(program, other.email)).json() == {"show": False}
    assert call(client, "widget_ask", signed(program, "stranger@nowhere.example")).json() == {"show": False}
    asked = call(client, "widget_ask", signed(program, contact.email), origin="https://evil.example")
    assert asked.json()["show"] and "Access-Control-Allow-Origin" not in asked  # another site cannot read it
    bad = call(client, "widget_answer", {"token": asked.json()["token"], "score": 11})
    assert bad.status_code == 400 and "score" in bad.json()["errors"]


def test_german_contacts_are_asked_in_german(client, program):
    contact = ContactFactory(locale="de")
    body = call(client, "widget_ask", signed(program, contact.email)).json()
    assert body["language"] == "de" and body["send"] == "Senden" and "Freund" in body["question"]


def test_the_script_is_small_and_served_for_any_site(client):
    source = (Path(settings.BASE_DIR) / "static" / "widget" / "rebound.js").read_bytes()
    assert len(gzip.compress(source, 9)) < 15 * 1024  # the size budget
    served = client.get(reverse("surveys:widget_js"))
    assert served.status_code == 200 and served["Content-Type"].startswith("text/javascript")
    assert served["Cross-Origin-Resource-Policy"] == "cross-origin" and served.content == source
    assert b"eval(" not in source and b"document.cookie" not in source and b"innerHTML" not in source


def test_many_users_are_asked_without_sharing_one_rate_limit(client, program):
    """The ask call is limited per client address, not by one bucket that every user of every host shares."""
    contacts = [ContactFactory(email=f"user{n}@customer.example.com") for n in range(15)]
    shown = [call(client, "widget_ask", signed(program, c.email)).json()["show"] for c in contacts]
    assert shown == [True] * 15
