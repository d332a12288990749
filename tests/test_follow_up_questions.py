"""Follow-up questions (issue 15, item 3): up to five per program, asked on the thank-you page to everyone
or one category, in the contact's language; stored with the response, editable within the edit window,
in the export, the API and the insights page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_token_create
from surveys.models import Question, QuestionKind

from .factories import ContactFactory, InvitationFactory, ProgramFactory, submit_answer


@pytest.fixture
def program(db):
    program = ProgramFactory()
    Question.objects.create(
        program=program, position=0, kind=QuestionKind.CHOICE, ask="detractor", text="What went wrong first?",
        text_de="Was lief zuerst schief?", options="Speed\nSupport\nPrice", options_de="Tempo\nSupport\nPreis",
    )  # fmt: skip
    Question.objects.create(program=program, position=1, kind=QuestionKind.RATING, text="How easy was setup?")
    Question.objects.create(
        program=program, position=2, kind=QuestionKind.MULTIPLE, ask="promoter", text="What do you use most?",
        options="Reports\nAlerts\nAPI",
    )  # fmt: skip
    return program


def answered(program, score, locale="en"):
    invitation = InvitationFactory(program=program, contact=ContactFactory(locale=locale))
    submit_answer(invitation=invitation, score=score, reason="because")
    return invitation


def test_each_category_sees_its_questions_and_the_answers_are_kept(client, program):
    detractor = answered(program, 3)
    page = client.get(reverse("surveys:thanks", args=[detractor.token])).content.decode()
    assert "What went wrong first?" in page and "How easy was setup?" in page
    assert "What do you use most?" not in page  # promoters only
    questions = reverse("surveys:questions", args=[detractor.token])
    first, rating = program.questions.all()[:2]
    wrong = client.post(questions, {f"q{first.pk}": "Weather", f"q{rating.pk}": "9"})
    assert wrong.status_code == 400 and "Please pick one of the options." in wrong.content.decode()
    done = client.post(questions, {f"q{first.pk}": "Support", f"q{rating.pk}": "2"})
    assert done.status_code == 302 and done.url.endswith("?done=questions")
    response = detractor.response
    response.refresh_from_db()
    assert response.follow_up == {str(first.pk): "Support", str(rating.pk): 2}
    assert response.routed_at is None  # routed again after the commit: webhooks hear response.updated

    promoter = answered(program, 10)
    multiple = program.questions.get(kind=QuestionKind.MULTIPLE)
    client.post(
        reverse("surveys:questions", args=[promoter.token]),
        {f"q{multiple.pk}": ["Reports", "API"], f"q{first.pk}": "Price"},  # not asked of promoters: ignored
    )
    promoter.response.refresh_from_db()
    assert promoter.response.follow_up == {str(multiple.pk): ["Reports", "API"]}


def test_german_contacts_read_german_and_answers_count_with_the_english(client, program):
    invitation = answered(program, 2, locale="de")
    page = client.get(reverse("surveys:thanks", args=[invitation.token])).content.decode()
    assert "Was lief zuerst schief?" in page and "Preis" in page and "Noch ein paar Fragen (optional)" in page
    assert "How easy was setup?" in page  # no German text given: the English one
    first = program.questions.get(position=0)
    wrong = client.post(reverse("surveys:questions", args=[invitation.token]), {f"q{first.pk}": "Wetter"})
    assert "Bitte wählen Sie eine der Möglichkeiten." in wrong.content.decode()
    client.post(reverse("surveys:questions", args=[invitation.token]), {f"q{first.pk}": "Price"})
    invitation.response.refresh_from_db()
    assert invitation.response.follow_up == {str(first.pk): "Price"}  # stored as the English option


def test_answers_can_be_changed_only_within_the_edit_window(client, program):
    invitation = answered(program, 4)
    rating = program.questions.get(kind=QuestionKind.RATING)
    url = reverse("surveys:questions", args=[invitation.token])
    client.post(url, {f"q{rating.pk}": "2"})
    client.post(url, {f"q{rating.pk}": "4"})
    invitation.response.refresh_from_db()
    assert invitation.response.follow_up == {str(rating.pk): 4}
    with time_machine.travel(timezone.now() + timedelta(hours=program.edit_window_hours, minutes=1)):
        late = client.post(url, {f"q{rating.pk}": "1"})
        assert late.status_code == 200 and "The time to change it has passed" in late.content.decode()
        assert (
            "How easy was setup?" not in client.get(reverse("surveys:thanks", args=[invitation.token])).content.decode()
        )
    invitation.response.refresh_from_db()
    assert invitation.response.follow_up == {str(rating.pk): 4}


def test_admins_edit_up_to_five_questions_with_field_errors(client, admin_user):
    program = ProgramFactory()
    client.force_login(admin_user)
    url = reverse("surveys:program_questions", args=[program.pk])
    assert client.get(url).status_code == 200

    def rows(*questions):
        data = {"questions-TOTAL_FORMS": len(questions), "questions-INITIAL_FORMS": 0}
        for n, q in enumerate(questions):
            data.update({f"questions-{n}-{k}": v for k, v in q.items()})
        return data

    bad = client.post(url, rows({"text": "Why?", "kind": "choice", "ask": "", "options": "Only one"}))
    assert "A choice question needs at least two options" in bad.content.decode()
    mismatch = {"text": "Why?", "kind": "choice", "ask": "", "options": "A\nB", "options_de": "A"}
    assert "Give all 2 options in German" in client.post(url, rows(mismatch)).content.decode()
    six = [{"text": f"Q{n}", "kind": "text", "ask": ""} for n in range(6)]
    assert "At most 5" in client.post(url, rows(*six)).content.decode()
    assert Question.objects.count() == 0
    ok = client.post(url, rows({"text": "Why?", "kind": "choice", "ask": "detractor", "options": "A\nB"},
                               {"text": "Anything else?", "kind": "text", "ask": ""}))  # fmt: skip
    assert ok.status_code == 302
    assert list(program.questions.values_list("position", "text")) == [(0, "Why?"), (1, "Anything else?")]
    assert "Why?" in client.get(reverse("surveys:program_detail", args=[program.pk])).content.decode()


def test_answers_are_on_the_insights_page_in_the_export_and_the_api(client, admin_user, program):
    first = program.questions.get(position=0)
    rating = program.questions.get(kind=QuestionKind.RATING)
    for score, choice, stars in ((1, "Speed", "2"), (5, "Speed", "3"), (6, "Price", "3")):
        invitation = answered(program, score)
        client.post(
            reverse("surveys:questions", args=[invitation.token]), {f"q{first.pk}": choice, f"q{rating.pk}": stars}
        )
    promoter = answered(program, 9)
    client.post(reverse("surveys:questions", args=[promoter.token]), {f"q{rating.pk}": "5"})
    client.force_login(admin_user)
    page = client.get(reverse("insights:dashboard") + "?stream=relationship&period=year")
    entries = {e["question"].text: e for e in page.context["follow_up"]}
    assert entries["What went wrong first?"]["rows"][:2] == [("Speed", [2, 0, 0], 2), ("Support", [0, 0, 0], 0)]
    assert {o: total for o, _c, total in entries["How easy was setup?"]["rows"]} == {
        "1": 0, "2": 1, "3": 2, "4": 0, "5": 1,
    }  # fmt: skip
    assert entries["How easy was setup?"]["rows"][4][1] == [0, 0, 1]  # the promoter's 5
    export = client.get(reverse("insights:export_responses") + "?stream=relationship&period=year")
    text = b"".join(export.streaming_content).decode()
    assert "follow-up: What went wrong first?" in text.splitlines()[0] and ",Price,3" in text

    token, key = api_token_create(user=admin_user, name="t")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = api.get(reverse("api:response_detail", args=[promoter.response.pk])).json()
    assert body["follow_up"] == [{"question_id": rating.pk, "question": "How easy was setup?", "answer": 5}]
