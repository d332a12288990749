"""A customer answers in a real browser (Debian's Chromium driven by Playwright), keyboard only."""

import os
import re
from pathlib import Path

import pytest
from django.core import mail

from surveys import services
from surveys.models import Category, Response

from .factories import ContactFactory, ProgramFactory, submit_answer

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium (apt-get install chromium); CI installs it",
    ),
]


@pytest.fixture
def browser_server(transactional_db):
    """A live server for this test only: it stops, and closes its database connections, before the
    test database is dropped (pytest-django's session-wide one outlives it)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("localhost", static_handler=StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield type("LiveServer", (), {"url": f"http://localhost:{thread.port}"})()
    thread.terminate()


CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${e.documentURI}`);
});
"""


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still
    # plain synchronous calls between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        context = browser.new_context(viewport={"width": 360, "height": 740})
        third_party = []
        context.on("request", lambda r: None if r.url.startswith("http://localhost") else third_party.append(r.url))
        # Every Content-Security-Policy violation on any page (frames included) is reported here.
        violations = []
        context.expose_function("reportCspViolation", lambda text: violations.append(text))
        context.add_init_script(CSP_LISTENER)
        new_page = context.new_page()
        new_page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        new_page.csp_violations = violations
        yield new_page
        browser.close()
        assert violations == [], f"CSP violations: {violations}"
        # ORM calls made while Playwright's loop runs get their own connections: close them here.
        from django.db import connections

        connections.close_all()
        assert third_party == [], "the customer page asked another server for something"


def test_a_customer_answers_from_the_emailed_link_with_the_keyboard_only(browser_server, settings, page):
    settings.SITE_URL = browser_server.url
    ProgramFactory(send_day=1, send_hour=0, timezone="UTC", product_name="Acme Cloud")
    contact = ContactFactory(email="ada@customer.example.com", name="Ada Lovelace")
    services.tick()  # the wave is due: invite, queue, send (eager Celery in tests)

    message = next(m for m in mail.outbox if m.to == [contact.email])
    html = message.alternatives[0][0]
    link = re.search(r'href="([^"?]+/s/[0-9a-f]+/)"', html).group(1)
    assert link.startswith(browser_server.url)

    page.goto(link)
    assert page.locator("legend").inner_text() == (
        "How likely are you to recommend Acme Cloud to a friend or colleague?"
    )
    page.keyboard.press("Tab")  # into the radio group
    focused = page.evaluate("document.activeElement.id")
    assert focused == "score-0"
    outline = page.evaluate("getComputedStyle(document.querySelector('label[for=score-0]')).outlineStyle")
    assert outline == "solid"  # focus is visible
    for _ in range(9):
        page.keyboard.press("ArrowRight")  # arrows move through the scale and select
    assert page.evaluate("document.activeElement.value") == "9"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reason"
    page.keyboard.type("Support <b>fixed</b> it fast")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/thanks/$"))
    assert "Thank you, that means a lot to us" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # usable at 360 px

    response = Response.objects.get()
    assert (response.score, response.category) == (9, Category.PROMOTER)
    assert response.reason == "Support <b>fixed</b> it fast"
    assert response.contact == contact


def test_staff_pages_run_under_the_content_security_policy(browser_server, settings, page):
    """An Admin signs in through the form and walks the main pages: every one sends the policy,
    and the browser reports no violation (the fixture fails the test on any)."""
    from urllib.request import urlopen

    from django.urls import reverse

    from accounts.models import Role
    from outbox.models import CaughtEmail

    from .factories import InvitationFactory, UserFactory

    settings.SITE_URL = browser_server.url
    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"
    UserFactory(email="admin@example.com", role=Role.ADMIN, team=None, password="a-long-admin-password")
    program = ProgramFactory()
    contact = ContactFactory(name="Grace Hopper")
    answered = submit_answer(invitation=InvitationFactory(program=program, contact=contact), score=3, reason="Slow")
    task = answered.response.tasks.get()
    caught = CaughtEmail.objects.create(
        subject="Hi",
        from_email="a@example.com",
        to="b@example.com",
        body_text="Hi",
        body_html="<p style='color:red'>Hi</p>",
    )
    with urlopen(f"{browser_server.url}/login/", timeout=10) as response:  # noqa: S310 - our own live server
        header = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in header
    assert "frame-ancestors 'none'" in header
    assert "'unsafe-inline'" not in header

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{browser_server.url}/login/")
    page.fill("#id_username", "admin@example.com")
    page.fill("#id_password", "a-long-admin-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{browser_server.url}/")
    paths = [
        reverse(name, args=args)
        for name, args in [
            ("home", []), ("followups:my_tasks", []), ("followups:queue", []), ("followups:task_detail", [task.pk]),
            ("insights:dashboard", []), ("insights:accounts", []), ("customers:account_list", []),
            ("customers:contact_detail", [contact.pk]), ("surveys:program_list", []),
            ("surveys:program_detail", [program.pk]), ("surveys:program_preview", [program.pk]),
            ("customers:import_list", []), ("accounts:user_list", []), ("accounts:security", []),
            ("accounts:audit_list", []), ("two_factor_setup", []), ("outbox:detail", [caught.pk]),
            ("api_docs", []), ("integrations:webhook_list", []), ("surveys:branding", []),
        ]
    ]  # fmt: skip
    # The detector works: an inline style attribute added to the page is reported …
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"color: red\">x</div>')")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in page.csp_violations)  # (the event and the console message)
    page.csp_violations.clear()
    # … and no page of ours causes one.
    for path in paths:
        response = page.goto(f"{browser_server.url}{path}")
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
        if "two-factor" in path:
            assert page.locator(".qr svg").count() == 1  # the QR code renders without inline style
        if path == reverse("api_docs"):  # Swagger UI, from the app's static files, renders the schema
            page.wait_for_selector(".swagger-ui .opblock", timeout=10_000)
        if path == reverse("followups:queue"):  # a task's due moment as a tooltip, formatted by the browser
            due = page.locator("time[data-local-title]").first
            assert due.get_attribute("title") and "T" not in due.get_attribute("title"), due.get_attribute("title")
    # The program editor's preview follows the edits (static/js/rebound.js), under the same policy.
    page.goto(f"{browser_server.url}{reverse('surveys:program_edit', args=[program.pk])}")
    page.fill("#id_subject", "Two minutes for {product}?")
    from playwright.sync_api import expect

    # the preview posts 600 ms after the last keystroke
    preview = page.frame_locator("iframe[name=email-preview]").locator("body")
    expect(preview).to_contain_text("Two minutes for Acme Cloud?", timeout=10_000)
    program.refresh_from_db()
    assert program.subject != "Two minutes for {product}?"  # previewed, not saved
    # On a phone, Home and the task lists fit the screen: tasks become cards, no sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    for name in ("home", "followups:my_tasks", "followups:queue"):
        page.goto(f"{browser_server.url}{reverse(name)}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name


def _opened_from_the_email(browser_server, page, score: int):
    """The answer page as the email's score link opens it, and its invitation."""
    from django.urls import reverse

    from .factories import InvitationFactory

    invitation = InvitationFactory(program=ProgramFactory(product_name="Acme Cloud"))
    page.goto(f"{browser_server.url}{reverse('surveys:answer', args=[invitation.token])}?score={score}")
    assert page.locator(f"#score-{score}").is_checked()
    return invitation


def test_opening_the_link_without_a_person_records_nothing(browser_server, page):
    """What a mail scanner does: load the page (scripts run), wait, close. No answer is stored."""
    invitation = _opened_from_the_email(browser_server, page, 3)
    page.wait_for_timeout(1500)
    assert page.locator("#saved-note").is_hidden()
    page.close()
    assert not Response.objects.filter(invitation=invitation).exists()


def test_a_person_on_the_page_has_the_clicked_score_saved_and_send_adds_the_reason(browser_server, page):
    invitation = _opened_from_the_email(browser_server, page, 3)
    page.mouse.move(40, 200)  # a person: the pointer moves
    page.locator("#saved-note").wait_for(state="visible")
    assert "your score is saved" in page.locator("#saved-note").inner_text()
    response = Response.objects.get(invitation=invitation)
    assert (response.score, response.reason) == (3, "")
    page.locator("label[for=score-5]").click()  # a change of mind is saved too
    page.locator("form[data-saved-score='5']").wait_for(state="attached")
    page.fill("#reason", "Exports time out")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/thanks/$"))
    assert Response.objects.filter(invitation=invitation).count() == 1
    response.refresh_from_db()
    assert (response.score, response.reason) == (5, "Exports time out")


def test_a_person_who_closes_the_tab_after_touching_the_page_keeps_their_score(browser_server, page):
    invitation = _opened_from_the_email(browser_server, page, 9)
    page.keyboard.press("Tab")  # any real interaction: here a key
    page.locator("#saved-note").wait_for(state="visible")
    page.close()
    assert Response.objects.get(invitation=invitation).score == 9


STAFF_PAGES = {
    "admin": ["home", "followups:my_tasks", "followups:queue", "insights:dashboard", "insights:accounts",
              "customers:account_list", "customers:contact_list", "surveys:program_list", "followups:sla_policies",
              "followups:loop_templates", "accounts:user_list", "surveys:branding"],
    "manager": ["home", "followups:queue", "insights:dashboard", "insights:accounts", "customers:account_list"],
    "csm": ["home", "followups:my_tasks", "followups:queue", "insights:dashboard", "customers:contact_list",
            "accounts:my_settings"],
}  # fmt: skip
# `make screenshots` sets SCREENSHOTS_DIR: the walk then saves these pages for the README's Tour.
TOUR = {
    ("admin", "home", 1280), ("manager", "insights:dashboard", 1280), ("manager", "insights:accounts", 1280),
    ("csm", "followups:my_tasks", 1280), ("csm", "followups:my_tasks", 390), ("admin", "surveys:branding", 1280),
}  # fmt: skip


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page (injected through the driver, not the page)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(n['target'][0] for n in v['nodes'][:3])}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_every_role_walks_its_pages_accessibly_on_desktop_and_phone(browser_server, settings, page):
    """Per role, each main page on desktop and at 390 px: no console error, no CSP violation (the fixture),
    no sideways scroll on the phone, and no serious or critical axe-core violation."""
    from django.urls import reverse

    from accounts.models import Role

    from .factories import AccountFactory, InvitationFactory, TeamFactory, UserFactory

    settings.SITE_URL = browser_server.url
    team = TeamFactory(name="North")
    users = {
        # a long name on purpose: the navbar must wrap, not push "Log out" off its background
        "admin": UserFactory(
            email="admin@example.com",
            name="Maximilian Alexander Bartholomew-Featherstonehaugh",
            role=Role.ADMIN,
            team=None,
            password="pw-admin-long-enough",
        ),
        "manager": UserFactory(email="m@example.com", role=Role.MANAGER, team=team, password="pw-admin-long-enough"),
        "csm": UserFactory(email="c@example.com", role=Role.CSM, team=team, password="pw-admin-long-enough"),
    }
    account = AccountFactory(team=team, csm=users["csm"], arr=20800)
    for score, reason in [(2, "Exports time out"), (8, "Good, pricey"), (10, "Love it")]:
        invitation = InvitationFactory(contact=ContactFactory(account=account))
        submit_answer(invitation=invitation, score=score, reason=reason)
    # Bootstrap animates colours (.15 s); with reduced motion it does not, so axe never measures a colour
    # half-way through a transition. The pointer rests in a corner, hovering nothing.
    page.emulate_media(reduced_motion="reduce")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    problems = []
    for role, names in STAFF_PAGES.items():
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{browser_server.url}/login/")
        page.fill("#id_username", users[role].email)
        page.fill("#id_password", "pw-admin-long-enough")
        page.click("button[type=submit]")
        page.wait_for_url(f"{browser_server.url}/")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for name in names:
                page.goto(f"{browser_server.url}{reverse(name)}")
                page.mouse.move(0, 0)
                problems += [f"{role} {name} {width}px: {p}" for p in _accessibility_problems(page)]
                if (role, name, width) in TOUR:
                    _screenshot(page, f"{role}-{name.replace(':', '-').replace('_', '-')}-{width}")
                if width == 390 and page.evaluate("document.documentElement.scrollWidth") > 390:
                    problems.append(f"{role} {name}: scrolls sideways at 390 px")
    # the customer's answer page, on a phone
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    page.goto(f"{browser_server.url}{reverse('surveys:answer', args=[invitation.token])}?score=7")
    problems += [f"answer page: {p}" for p in _accessibility_problems(page)]
    _screenshot(page, "customer-answer-390")
    assert problems == [], "\n".join(problems)
    assert errors == []


def test_the_in_app_widget_asks_in_a_host_page_and_the_answer_is_routed(browser_server, settings, page):
    """The demo host app embeds the widget for a signed user: answer → response in the in_app channel →
    the Detractor's recovery task. No cookie, no inline code, nothing from another server."""
    from followups.models import Task
    from surveys import widget
    from surveys.answers import responses_route_pending
    from surveys.models import Response

    settings.WIDGET_DEMO = True
    program = ProgramFactory(product_name="Acme Cloud")
    widget.secret_create(program)
    contact = ContactFactory(email="ada@customer.example.com", name="Ada Lovelace")
    calls = []
    page.on("request", lambda r: calls.append(r) if "/widget/v1/" in r.url else None)
    page.goto(f"{browser_server.url}/widget/demo/?user={contact.email}")
    panel = page.locator("[data-rebound-widget] section[role=dialog]")
    panel.wait_for()
    assert "How likely are you to recommend Acme Cloud" in panel.locator("h2").inner_text()
    panel.locator("button[data-score='3']").click()
    assert panel.locator("button[data-score='3']").get_attribute("aria-pressed") == "true"
    panel.locator("textarea").fill("Exports <b>time out</b>")
    panel.locator("button.send").click()
    panel.get_by_text("Thank you for your answer").wait_for()
    assert [c.url.rsplit("/", 1)[1] for c in calls] == ["rebound.js", "ask", "answer"]
    assert all("cookie" not in c.all_headers() for c in calls[1:])  # the widget's calls carry no cookie
    response = Response.objects.get()
    assert (response.via, response.score, response.reason) == ("in_app", 3, "Exports <b>time out</b>")
    responses_route_pending()
    assert Task.objects.get(response=response).queue == "recovery"
