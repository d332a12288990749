"""Shared links and kiosks (issue 15, item 5) and the survey channel as a dimension (item 6)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import scoping
from customers.models import Account
from followups.models import Task
from insights import selectors
from outbox.models import OutgoingEmail
from surveys import links
from surveys.models import Invitation, Response, Via
from surveys.services import invitations_prepare_due

from .factories import InvitationFactory, ProgramFactory, submit_answer


@pytest.fixture
def program(db):
    program = ProgramFactory()
    links.share_link_enable(program)
    return program


def answer(client, program, score, reason="", query=""):
    url = reverse("surveys:shared", args=[program.share_token]) + query
    posted = client.post(url, {"score": score, "reason": reason})
    from surveys.answers import responses_route_pending

    responses_route_pending()  # what the worker does after the commit
    return posted


def test_anyone_answers_from_the_link_anonymously_and_no_task_opens(client, program):
    url = reverse("surveys:shared", args=[program.share_token])
    page = client.get(url)
    assert page.status_code == 200 and program.question_text in page.content.decode()
    assert "data-early-save" not in page.content.decode()  # each Send is one answer: no early save here
    assert Response.objects.count() == 0  # a GET records nothing
    posted = answer(client, program, 2, "Queue at the booth was long")
    response = Response.objects.get()
    assert posted.status_code == 302 and posted.url == reverse("surveys:thanks", args=[response.invitation.token])
    assert (response.via, response.score, links.is_anonymous(response)) == (Via.LINK, 2, True)
    assert not Task.objects.exists()  # nobody to call back
    thanks = client.get(posted.url).content.decode()
    assert "will be in touch" not in thanks and "Change my answer" not in thanks
    answer(client, program, 9)
    assert Response.objects.count() == 2 and Invitation.objects.filter(via=Via.LINK).count() == 2
    # Never emailed, and the hidden account is in no list.
    invitations_prepare_due(timezone.now() + timedelta(minutes=1))
    assert not OutgoingEmail.objects.exists()
    from customers.selectors import accounts_visible_to

    assert Account.objects.filter(external_id=links.ANONYMOUS_ACCOUNT_EXTERNAL_ID).exists()
    assert not accounts_visible_to(scoping.SYSTEM).filter(external_id=links.ANONYMOUS_ACCOUNT_EXTERNAL_ID).exists()


def test_a_signed_contact_answers_as_themselves_with_the_usual_follow_up(client, program, contact, csm):
    signed = links.identity_for(program, contact)
    answer(client, program, 3, "Slow exports", query=f"?c={signed}")
    response = Response.objects.get()
    assert (response.contact, response.via) == (contact, Via.LINK)
    assert Task.objects.get(response=response).queue == "recovery"

    forged = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    other = ProgramFactory()
    links.share_link_enable(other)
    for url in (
        reverse("surveys:shared", args=[program.share_token]) + f"?c={forged}",
        reverse("surveys:shared", args=[other.share_token]) + f"?c={signed}",  # signed for another program
    ):
        refused = client.post(url, {"score": 10})
        assert refused.status_code == 404 and "link" in refused.content.decode().lower()
    assert Response.objects.count() == 1


def test_a_turned_off_or_unknown_link_is_a_friendly_404_and_posts_are_rate_limited(client, program, settings):
    token = program.share_token
    links.share_link_enable(program)  # a new link: the old one stops
    assert client.get(reverse("surveys:shared", args=[token])).status_code == 404
    links.share_link_disable(program)
    assert client.get(reverse("surveys:shared", args=["nope"])).status_code == 404
    links.share_link_enable(program)
    bad = client.post(reverse("surveys:shared", args=[program.share_token]), {"score": 11})
    assert bad.status_code == 400 and "The score must be a whole number from 0 to 10." in bad.content.decode()
    settings.LINK_RATE_PER_IP = "3/h"  # every POST counts, the refused one above too
    assert [answer(client, program, 8).status_code for _ in range(3)] == [302, 302, 429]
    assert Response.objects.count() == 2


def test_a_kiosk_returns_to_a_fresh_question_after_each_answer(client, program):
    posted = answer(client, program, 10, query="?kiosk=1")
    thanks = client.get(posted.url).content.decode()
    fresh = reverse("surveys:shared", args=[program.share_token]) + "?kiosk=1"
    assert f'content="20;url={fresh}"' in thanks and "Next person" in thanks


def test_admins_make_the_link_and_its_qr_code(client, admin_user):
    program = ProgramFactory()
    client.force_login(admin_user)
    client.post(reverse("surveys:program_share_link", args=[program.pk]), {"action": "on"})
    program.refresh_from_db()
    assert program.share_token and len(program.share_token) >= 32
    detail = client.get(reverse("surveys:program_detail", args=[program.pk])).content.decode()
    assert reverse("surveys:shared", args=[program.share_token]) in detail
    qr = client.get(reverse("surveys:program_share_qr", args=[program.pk]))
    assert qr["Content-Type"] == "image/svg+xml" and qr.content.startswith(b"<svg") and b"<path" in qr.content
    client.post(reverse("surveys:program_share_link", args=[program.pk]), {"action": "off"})
    program.refresh_from_db()
    assert program.share_token is None
    assert client.get(reverse("surveys:program_share_qr", args=[program.pk])).status_code == 404


def test_every_figure_splits_by_survey_channel(client, admin_user, program, contact):
    submit_answer(invitation=InvitationFactory(program=program, contact=contact), score=10, reason="")
    for score in (0, 3, 9):
        answer(client, program, score)
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    filters = selectors.Filters(stream=program.stream, start=start, end=end)
    rows = {value: (label, s.responses, s.nps) for value, label, s in selectors.segments(admin_user, filters, "via")}
    assert rows["email"][:2] == ("Email", 1) and rows["link"][:2] == ("Shared link", 3)
    only_link = selectors.Filters(stream=program.stream, start=start, end=end, dims={"via": "link"})
    assert selectors.summary(admin_user, only_link).score.responses == 3
    client.force_login(admin_user)
    page = client.get(reverse("insights:dashboard") + f"?stream={program.stream}&period=30d&by=via")
    assert page.status_code == 200 and "Shared link" in page.content.decode()


def test_the_command_prints_the_link_and_a_signed_one(program, contact, settings):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("share_link", str(program.pk), "--email", contact.email, stdout=out)
    url = out.getvalue().strip()
    assert url.startswith(settings.SITE_URL + reverse("surveys:shared", args=[program.share_token]) + "?c=")
    signed = url.split("?c=", 1)[1]
    assert links.contact_from_identity(program, signed) == contact
