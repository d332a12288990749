"""Customers answer: the public page, the response it saves, the thank-you pages."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Segment
from followups.models import SlaPolicy
from surveys import answers, services
from surveys.models import Category, Referral, Response, ReviewOffer

from .factories import (
    AccountFactory,
    ContactFactory,
    InvitationFactory,
    ProgramFactory,
    TransactionalProgramFactory,
)


@pytest.fixture
def invitation(db, csm):
    account = AccountFactory(
        segment=Segment.MID_MARKET, plan_tier="Growth", industry="Retail", region="EMEA", arr=120_000,
        employee_count=300, product_line="Analytics", csm=csm, team=csm.team,
        customer_since=timezone.localdate() - timedelta(days=800),
    )  # fmt: skip
    return InvitationFactory(contact=ContactFactory(account=account, name="Ada Lovelace"))


def answer_url(invitation, **query):
    url = reverse("surveys:answer", args=[invitation.token])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_get_with_any_score_records_nothing(client, invitation):
    for score in ["0", "7", "10", "11", "-1", "x", "9&reason=spam"]:
        page = client.get(answer_url(invitation, score=score))
        assert page.status_code == 200
    assert Response.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_a_score_clicked_in_the_email_arrives_preselected(client, invitation):
    html = client.get(answer_url(invitation, score=3)).content.decode()
    assert re.search(r'value="3" checked', html)
    assert html.count("checked") == 1
    assert '<legend id="question">How likely are you to recommend Acme Cloud to a friend or colleague?</legend>' in html
    assert "0 – Not at all likely" in html
    assert "10 – Extremely likely" in html


def test_the_pages_script_saves_the_score_and_send_adds_the_reason_to_the_same_response(client, invitation):
    """answer.js posts the form once a person is on the page; the answer is the same service's."""
    page = client.get(answer_url(invitation, score=4)).content.decode()
    assert "data-early-save" in page and "js/answer.js" in page
    early = {"HTTP_X_REBOUND_EARLY": "1"}
    saved = client.post(answer_url(invitation), {"score": 4, "reason": ""}, **early)
    assert saved.status_code == 200 and saved.json() == {"saved": True, "score": 4}
    assert Response.objects.get().score == 4
    refused = client.post(answer_url(invitation), {"score": "11"}, **early)
    assert refused.status_code == 400 and "score" in refused.json()["errors"]
    sent = client.post(answer_url(invitation), {"score": 4, "reason": "Exports time out"})
    assert sent.status_code == 302
    assert Response.objects.get().reason == "Exports time out"  # the same response, now with its reason
    assert "data-early-save" not in client.get(answer_url(invitation)).content.decode()  # editing: Send saves


def test_a_post_creates_one_response_with_the_snapshot(client, invitation, csm):
    page = client.post(
        answer_url(invitation),
        {"score": "4", "reason": "  Slow <script>alert(1)</script> support  "},
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    )
    assert page.status_code == 302
    assert page["Location"] == reverse("surveys:thanks", args=[invitation.token])
    response = Response.objects.get()
    assert (response.score, response.category) == (4, Category.DETRACTOR)
    assert response.reason == "  Slow <script>alert(1)</script> support  "  # stored as given
    assert response.stream == invitation.stream
    assert (response.program, response.contact, response.account) == (
        invitation.program,
        invitation.contact,
        invitation.account,
    )
    assert response.segment == Segment.MID_MARKET
    assert (response.plan_tier, response.industry, response.region, response.product_line) == (
        "Growth",
        "Retail",
        "EMEA",
        "Analytics",
    )
    assert response.arr_tier == "50k–250k"
    assert response.company_size == "250–999"
    assert response.csm == csm and response.team == csm.team
    assert re.fullmatch(r"\d{4}-Q[1-4]", response.cohort)
    assert response.tenure_months == 26
    assert response.device_class == "mobile"
    invitation.refresh_from_db()
    assert invitation.responded_at == response.submitted_at


def test_the_snapshot_does_not_follow_the_account(client, invitation):
    client.post(answer_url(invitation), {"score": "9", "reason": ""})
    account = invitation.account
    account.plan_tier, account.segment, account.arr = "Enterprise Plus", Segment.ENTERPRISE, 2_000_000
    account.save()
    response = Response.objects.get()
    assert (response.plan_tier, response.segment, response.arr_tier) == ("Growth", Segment.MID_MARKET, "50k–250k")


def test_transactional_responses_carry_the_event(client, db):
    invitation = InvitationFactory(
        program=TransactionalProgramFactory(),
        properties={"touchpoint": "ticket", "channel": "chat", "agent": "Sam", "ticket_id": "T-1"},
    )
    client.post(answer_url(invitation), {"score": "10", "reason": "Fast"})
    response = Response.objects.get()
    assert (response.stream, response.touchpoint, response.channel, response.agent) == (
        "transactional",
        "ticket",
        "chat",
        "Sam",
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"score": "11"}, "score", "The score must be a whole number from 0 to 10."),
        ({"score": "-1"}, "score", "The score must be a whole number from 0 to 10."),
        ({"score": "7.5"}, "score", "The score must be a whole number from 0 to 10."),
        ({"score": "seven"}, "score", "The score must be a whole number from 0 to 10."),
        ({"score": ""}, "score", "Please choose a score from 0 to 10."),
        ({}, "score", "Please choose a score from 0 to 10."),
        ({"score": "5", "reason": "x" * 5001}, "reason", "Please keep your answer under 5000 characters."),
    ],
)
def test_bad_input_gets_a_400_with_the_field_message(client, invitation, data, field, message):
    page = client.post(answer_url(invitation), data)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'id="{field}-error">{message}</p>' in html
    assert Response.objects.count() == 0


def test_an_empty_reason_and_the_longest_reason_are_accepted(client, invitation, db):
    assert client.post(answer_url(invitation), {"score": "8", "reason": ""}).status_code == 302
    other = InvitationFactory()
    assert client.post(answer_url(other), {"score": "8", "reason": "é" * 5000}).status_code == 302
    assert len(Response.objects.get(invitation=other).reason) == 5000


def test_customer_text_is_escaped_wherever_it_is_shown(client, invitation):
    client.post(answer_url(invitation), {"score": "9", "reason": "<img src=x onerror=alert(1)>"})
    html = client.get(answer_url(invitation)).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.parametrize(
    ("make_url", "status", "text"),
    [
        (lambda i: reverse("surveys:answer", args=["0" * 40]), 404, "This link doesn"),
        (lambda i: reverse("surveys:answer", args=[i.token[:-1] + ("0" if i.token[-1] != "0" else "1")]), 404, "doesn"),
        (lambda i: reverse("surveys:answer", args=[i.token[:20]]), 404, "doesn"),
        (lambda i: reverse("surveys:answer", args=["x" * 500]), 404, "doesn"),
        (lambda i: reverse("surveys:thanks", args=["nope"]), 404, "doesn"),
    ],
)
def test_unknown_or_altered_links_get_a_friendly_404(client, invitation, make_url, status, text):
    for method in (client.get, client.post):
        page = method(make_url(invitation), {"score": "5"} if method == client.post else None)
        assert page.status_code == status
        assert text in page.content.decode()
        assert invitation.contact.email not in page.content.decode()
    assert Response.objects.count() == 0


def test_an_expired_link_gets_a_friendly_410(client, invitation):
    with time_machine.travel(invitation.expires_at + timedelta(minutes=1), tick=False):
        assert client.get(answer_url(invitation)).status_code == 410
        page = client.post(answer_url(invitation), {"score": "5"})
    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()
    assert Response.objects.count() == 0


def test_an_unsubscribed_contact_gets_a_friendly_410(client, invitation):
    services.contact_unsubscribe(contact=invitation.contact)
    page = client.post(answer_url(invitation), {"score": "5"})
    assert page.status_code == 410
    assert "You have unsubscribed" in page.content.decode()
    assert Response.objects.count() == 0


def test_an_edit_inside_the_window_updates_and_outside_it_is_refused(client, invitation):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(answer_url(invitation), {"score": "3", "reason": "Bad"})
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        html = client.get(answer_url(invitation)).content.decode()
        assert 'value="3" checked' in html and "You can change your answer until" in html
        assert client.post(answer_url(invitation), {"score": "8", "reason": "Better now"}).status_code == 302
    response = Response.objects.get()
    assert (response.score, response.category, response.reason) == (8, Category.PASSIVE, "Better now")
    assert response.submitted_at == start and response.updated_at == start + timedelta(hours=23)
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        page = client.post(answer_url(invitation), {"score": "10", "reason": "Changed again"})
        assert "Thank you, you already answered" in page.content.decode()
        assert "Thank you, you already answered" in client.get(answer_url(invitation)).content.decode()
    assert Response.objects.get().score == 8


def test_the_edit_window_is_a_program_setting(client, db):
    invitation = InvitationFactory(program=ProgramFactory(edit_window_hours=2))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(answer_url(invitation), {"score": "3"})
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        client.post(answer_url(invitation), {"score": "9"})
    assert Response.objects.get().score == 3


def test_double_posts_make_one_response(client, invitation):
    for _ in range(3):
        client.post(answer_url(invitation), {"score": "6", "reason": "Meh"})
    assert Response.objects.count() == 1


def test_only_the_answers_hot_statements_are_prepared(client, invitation, settings):
    """PostgreSQL prepares the answer's one statement, and psycopg keeps no other statement's text:
    Django's statements bind on the client, their text holds their values (a wave's bulk INSERT,
    half a megabyte), and psycopg kept its last hundred while counting them towards preparing."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    connection.ensure_connection()
    prepared = connection.connection._prepared  # psycopg's own bookkeeping: what this test is about
    prepared.clear()
    client.post(answer_url(invitation), {"score": "6", "reason": "Meh"})
    ContactFactory.create_batch(3, account=invitation.account)  # the ORM's own statements, values inlined
    assert Response.objects.count() == 1
    assert len(prepared._names) == 1  # the one-statement answer, prepared from its first run
    assert not prepared._counts  # no other statement's text kept
    settings.DATABASE_PREPARED_STATEMENTS = False  # behind a transaction-mode pooler: nothing prepared
    prepared.clear()
    client.post(answer_url(InvitationFactory(contact=ContactFactory(account=invitation.account))), {"score": "9"})
    assert Response.objects.count() == 2 and not prepared._names and not prepared._counts


SNAPSHOT_CASES = [
    # employees, ARR, customer since (days before the answer's day, or a date), event properties
    (None, None, None, {}),
    (0, 9_999.99, 0, {"touchpoint": "ticket", "channel": "chat", "agent": "Sam"}),
    (49, 10_000, 1, {"touchpoint": "t" * 100, "channel": "chät", "agent": "Ä" * 250}),
    (50, 999_999.99, 29, {"ticket_id": "T-1", "nested": {"a": [1, 2]}}),
    (4_999, 1_000_000, 30, {"touchpoint": ""}),
    (5_000, 12_345_678, 31, {}),
    (250, 250_000, 365, {}),
    (999, 50_000, 800, {}),
    (1_000, 0, -3, {}),  # a start in the future: no tenure yet
]


@pytest.mark.parametrize(
    "day", ["2026-03-31 12:00", "2026-02-28 23:30", "2024-02-29 00:10", "2026-12-31 23:59", "2026-07-15 08:00"]
)
def test_the_one_statement_answer_stores_what_the_full_path_stores(db, day):
    """The usual answer is stored by one SQL statement that snapshots the account in the database;
    every answer it cannot store takes the Python path. Both must write the same row."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement answer is PostgreSQL's")
    moment = timezone.make_aware(timezone.datetime.fromisoformat(day))
    with time_machine.travel(moment, tick=False):
        today = timezone.localdate()
        for n, (employees, arr, since, properties) in enumerate(SNAPSHOT_CASES):
            started = today - timedelta(days=since) if since is not None else None
            account = AccountFactory(employee_count=employees, arr=arr, customer_since=started, plan_tier=f"P{n}")
            program = TransactionalProgramFactory() if properties else ProgramFactory()
            one, full = (
                InvitationFactory(program=program, contact=ContactFactory(account=account, locale="de-CH"),
                                  properties=properties)
                for _ in range(2)
            )  # fmt: skip
            stored = answers.response_create_for_token(
                token=one.token, locale="de-CH", score=n, reason="Nicht gut, zu langsam", device_class="desktop"
            )
            assert stored is not None
            answers.response_submit(
                invitation=answers.invitation_for_answer(full.token), score=n, reason="Nicht gut, zu langsam",
                device_class="desktop", language="de",
            )  # fmt: skip
            different = ("id", "invitation_id", "contact_id")
            rows = {
                row["invitation_id"]: {k: v for k, v in row.items() if k not in different}
                for row in Response.objects.filter(invitation__in=[one, full]).values()
            }
            assert rows[one.pk] == rows[full.pk], (employees, arr, started, properties)
    assert Response.objects.filter(language="de", sentiment="negative").count() == 2 * len(SNAPSHOT_CASES)
    snapshot = answers.response_snapshot(one, moment)  # every snapshot field is one the statement fills
    parameters = set(answers._create_for_token_sql()[1]) | set(answers._ANSWER_FIELDS)
    assert set(snapshot) and not set(snapshot) & parameters


def test_the_answer_page_carries_the_contacts_locale_and_its_post_is_one_statement(client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    invitation = InvitationFactory(contact=ContactFactory(locale="de-AT"))
    page = client.get(answer_url(invitation)).content.decode()
    assert '<input type="hidden" name="locale" value="de-AT">' in page
    with CaptureQueriesContext(connection) as queries:
        posted = client.post(answer_url(invitation), {"score": "9", "reason": "Sehr gut", "locale": "de-AT"})
    assert posted.status_code == 302
    response = Response.objects.get()
    assert (response.language, response.score, response.sentiment) == ("de", 9, "positive")
    if connection.vendor == "postgresql":
        assert len(queries) == 1  # found, claimed and stored by one statement


@pytest.mark.parametrize(
    ("locale", "posted", "properties", "language"),
    [
        ("de", {}, {}, "de"),  # no hint: the model's default ("en") is tried, and the contact is German
        ("de", {"locale": "en"}, {}, "de"),  # a stale or altered hint
        ("en", {"locale": "en"}, {"touchpoint": 5, "channel": True, "agent": None}, "en"),  # not text
    ],
)
def test_an_answer_the_one_statement_cannot_store_takes_the_full_path(client, db, locale, posted, properties, language):
    invitation = InvitationFactory(
        program=TransactionalProgramFactory(), contact=ContactFactory(locale=locale), properties=properties
    )
    page = client.post(answer_url(invitation), {"score": "2", "reason": "nicht gut", **posted})
    assert page.status_code == 302
    response = Response.objects.get()
    assert (response.language, response.category) == (language, Category.DETRACTOR)
    assert response.sentiment == answers.text_sentiment("nicht gut", language=language)["sentiment"]
    assert (response.touchpoint, response.channel, response.agent) == (
        (str(properties["touchpoint"]), str(properties["channel"]), str(properties["agent"]))
        if properties
        else ("", "", "")
    )
    invitation.refresh_from_db()
    assert invitation.responded_at == response.submitted_at


def test_the_service_refuses_a_score_outside_the_scale(invitation):
    with pytest.raises(ValueError, match="0–10"):
        answers.response_submit(invitation=invitation, score=11, reason="")


def test_rate_limits_answer_with_a_friendly_429(client, invitation, settings):
    settings.ANSWER_RATE_PER_TOKEN = "3/m"
    statuses = [client.post(answer_url(invitation), {"score": "5"}).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    page = client.post(answer_url(invitation), {"score": "5"})
    assert page.status_code == 429
    assert "Please wait a minute" in page.content.decode()


def test_the_rate_limit_per_ip_covers_many_links(client, db, settings):
    settings.ANSWER_RATE_PER_IP = "2/m"
    invitations = [InvitationFactory() for _ in range(3)]
    statuses = [client.post(answer_url(i), {"score": "5"}).status_code for i in invitations]
    assert statuses == [302, 302, 429]
    assert Response.objects.count() == 2


def test_rate_limit_counters_expire_and_survive_a_redis_restart(db):
    """The counting script gives each new counter its window's expiry, and is loaded again when
    Redis lost its scripts (a restart, SCRIPT FLUSH)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from config.ratelimit import over_limit

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("counts through the cache API without Redis")
    cache.clear()
    limits = [("test-token", "2/m"), ("test-ip", "5/h")]
    assert [over_limit(limits, now=1_000_000.0) for _ in range(3)] == [False, False, True]
    client = cache._cache.get_client(write=True)
    ttls = sorted(client.ttl(key) for key in client.keys(cache.make_key("rl:*")))
    assert 0 < ttls[0] <= 61 and 61 < ttls[1] <= 3601
    client.script_flush()
    assert over_limit(limits, now=1_000_000.0)  # the fourth hit on the token: still counted, still over
    assert not over_limit(limits, now=1_000_060.0)  # the next minute's window starts again


def test_a_count_never_read_leaves_no_reply_on_a_pooled_connection(db):
    """The answer's lookup runs between sending the count and reading it; if the lookup fails, the
    count is closed unread, and the next count on the pool must read its own reply, not that one."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from config.ratelimit import Count, over_limit

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("counts through the cache API without Redis")
    cache.clear()
    limits = [("test-token", "1/m")]
    assert not over_limit(limits, now=1_000_000.0)
    unread = Count(limits, now=1_000_000.0)  # the second hit: over, but nobody reads it
    unread.close()
    assert over_limit(limits, now=1_000_000.0)  # the third hit's own reply: over
    assert not over_limit([("another-token", "1/m")], now=1_000_000.0)  # a reply of its own, not a stale one
    cache.set("rl-check", 1)  # and the pool still serves the cache's own commands
    assert cache.get("rl-check") == 1


def test_csrf_works_for_a_customer_on_first_visit(invitation):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(answer_url(invitation), {"score": "5"}).status_code == 403  # no token, no answer
    html = browser.get(answer_url(invitation)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    page = browser.post(answer_url(invitation), {"score": "5", "csrfmiddlewaretoken": token})
    assert page.status_code == 302
    assert Response.objects.count() == 1


def test_the_detractor_thanks_page_promises_the_segment_sla(client, invitation):
    SlaPolicy.objects.create(segment=Segment.MID_MARKET, detractor_hours=12)
    page = client.post(answer_url(invitation), {"score": "2"}, follow=True)
    html = page.content.decode()
    assert "sorry" in html
    assert "within 12 hours" in html


def test_the_passive_thanks_page_asks_what_would_make_it_a_10(client, invitation):
    html = client.post(answer_url(invitation), {"score": "7"}, follow=True).content.decode()
    assert "What would make it a 10?" in html
    improve = reverse("surveys:improve", args=[invitation.token])
    assert client.post(improve, {"improvement": "x" * 5001}).status_code == 400
    page = client.post(improve, {"improvement": "Faster exports"}, follow=True)
    assert "we have your idea" in page.content.decode()
    assert Response.objects.get().improvement == "Faster exports"


def test_the_promoter_thanks_page_offers_a_review_and_records_a_referral(client, db):
    program = ProgramFactory(review_url="https://reviews.example.com/acme", review_offer=ReviewOffer.PROMOTERS)
    invitation = InvitationFactory(program=program)
    html = client.post(answer_url(invitation), {"score": "10"}, follow=True).content.decode()
    assert 'href="https://reviews.example.com/acme"' in html
    refer = reverse("surveys:refer", args=[invitation.token])
    bad = client.post(refer, {"name": "", "email": "not-an-email"})
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.content.decode()
    for _ in range(2):  # a double click is one referral
        page = client.post(refer, {"name": "Grace Hopper", "email": "Grace@Example.com", "company": "Navy"})
        assert page.status_code == 302
    referral = Referral.objects.get()
    assert (referral.name, referral.email, referral.response.invitation) == (
        "Grace Hopper",
        "grace@example.com",
        invitation,
    )


def test_the_review_link_follows_the_program_setting(client, db):
    gated = ProgramFactory(review_url="https://reviews.example.com/a", review_offer=ReviewOffer.PROMOTERS)
    open_to_all = ProgramFactory(review_url="https://reviews.example.com/b", review_offer=ReviewOffer.EVERYONE)
    for program, expected in ((gated, False), (open_to_all, True)):
        invitation = InvitationFactory(program=program)
        html = client.post(answer_url(invitation), {"score": "3"}, follow=True).content.decode()
        assert (program.review_url in html) is expected


def test_referrals_are_for_promoters_only(client, invitation):
    client.post(answer_url(invitation), {"score": "4"})
    page = client.post(reverse("surveys:refer", args=[invitation.token]), {"name": "A", "email": "a@example.com"})
    assert page.status_code == 404
    assert Referral.objects.count() == 0


def test_the_thanks_page_without_an_answer_goes_back_to_the_question(client, invitation):
    page = client.get(reverse("surveys:thanks", args=[invitation.token]))
    assert page.status_code == 302 and page["Location"] == answer_url(invitation)


def test_german_contacts_get_the_page_in_german(client, db):
    invitation = InvitationFactory(contact=ContactFactory(locale="de-AT"))
    page = client.get(answer_url(invitation))
    html = page.content.decode()
    assert page["Content-Language"] == "de"
    assert '<html lang="de">' in html
    assert "Wie wahrscheinlich ist es, dass Sie Acme Cloud einem Freund oder Kollegen empfehlen?" in html
    assert "0 – Überhaupt nicht wahrscheinlich" in html
    bad = client.post(answer_url(invitation), {"score": "12"}).content.decode()
    assert "Die Bewertung muss eine ganze Zahl von 0 bis 10 sein." in bad
    thanks = client.post(answer_url(invitation), {"score": "2"}, follow=True).content.decode()
    assert "innerhalb von 24 Stunden" in thanks


def test_the_page_is_light_and_makes_no_third_party_requests(client, invitation):
    html = client.get(answer_url(invitation)).content.decode()
    assert len(html.encode()) < 10_000
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # One small script of our own (the one-click save); no inline script; the form works without it.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/answer.js" defer>']
    assert os.path.getsize(Path(__file__).parent.parent / "static" / "js" / "answer.js") < 4_000
    assert 'name="viewport"' in html


def _po_entries(path):
    """(msgid, msgstr) of every singular entry of a .po file."""
    text = path.read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:
            join = lambda m: "".join(re.findall(r'"(.*)"', m.group(1))).replace('\\"', '"')  # noqa: E731
            if join(msgid):
                entries.append((join(msgid), join(msgstr)))
    return entries


def test_the_german_catalogue_is_complete_and_compiled():
    from django.conf import settings
    from django.utils import translation

    entries = _po_entries(settings.BASE_DIR / "locale" / "de" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 50
    assert [msgid for msgid, msgstr in entries if not msgstr] == []
    with translation.override("de"):
        stale = [msgid for msgid, msgstr in entries if translation.gettext(msgid) != msgstr]
    assert stale == [], "django.mo is older than django.po: run `make messages`"


def test_the_survey_email_is_in_the_contacts_language(db):
    from surveys.emails import survey_email

    invitation = InvitationFactory(contact=ContactFactory(locale="de", name="Jürgen Weber"))
    row = survey_email(invitation)
    assert row.subject == "Wie wahrscheinlich ist es, dass Sie Acme Cloud empfehlen?"
    assert "Hallo Jürgen," in row.body_text
    assert "0 – Überhaupt nicht wahrscheinlich" in row.body_html
    assert "Abmelden" in row.body_html


@pytest.mark.parametrize(
    ("arr", "employees", "tier", "size"),
    [(None, None, "", ""), (9_999, 49, "<10k", "1–49"), (10_000, 50, "10k–50k", "50–249"),
     (999_999, 4_999, "250k–1M", "1000–4999"), (1_000_000, 5_000, "1M+", "5000+")],
)  # fmt: skip
def test_arr_and_company_size_bands(arr, employees, tier, size):
    from customers.models import arr_tier, company_size

    assert (arr_tier(arr), company_size(employees)) == (tier, size)


def test_the_status_pages_speak_the_contacts_language_and_escape_the_sender(client, db):
    program = ProgramFactory(sender_name="Acme <b>Success</b>")
    invitation = InvitationFactory(program=program, contact=ContactFactory(locale="de"))
    page = client.post(reverse("surveys:unsubscribe", args=[invitation.token]), follow=True).content.decode()
    assert "Sie sind abgemeldet" in page and "Acme &lt;b&gt;Success&lt;/b&gt;" in page
    assert client.get(answer_url(invitation)).status_code == 410  # "this link no longer works", in German
    assert "Dieser Link" in client.get(answer_url(invitation)).content.decode()


def test_the_thanks_redirect_is_reversed_once_and_filled_in():
    from django.urls import get_script_prefix, set_script_prefix

    from config.links import path_filler

    link, before = path_filler("surveys:thanks"), get_script_prefix()
    try:
        for prefix in ["/", "/rebound/"]:  # e.g. behind a proxy that mounts the app under a path
            set_script_prefix(prefix)
            for token in ["abc123", "A-b_9" * 8, "with space", "ümlaut", "x" * 101, "%41"]:
                assert link(token) == reverse("surveys:thanks", args=[token])
            assert link("abc123") == f"{prefix}s/abc123/thanks/"
    finally:
        set_script_prefix(before)
