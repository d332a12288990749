"""The survey email, built from three templates.

A wave mails thousands of contacts the same email with three things changed: the first name, the
link's token and the expiry date. Rendering three Django templates per contact is most of a wave's
cost, so `SurveyMailer` renders each variant (language, reminder, greeting, expiry date) once with
placeholders and merges each contact's values into it, escaped for HTML where the HTML needs it.
`tests/test_distribution.py` checks the merge against a direct render.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from outbox.models import OutgoingEmail, Priority
from outbox.services import renderer_register

from .models import Branding, Invitation, Program, fill

SCALE = range(11)
# Placeholders: plain ASCII words that escaping and URL building leave as they are.
FIRST_NAME = "reboundmergefirstname"
TOKEN = "reboundmergetoken"  # noqa: S105 - a placeholder, not a secret


def supported_language(locale: str) -> str:
    code = (locale or "en").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def invitation_links(token: str) -> dict:
    base = settings.SITE_URL
    answer = base + reverse("surveys:answer", args=[token])
    return {
        "answer_url": answer,
        "score_urls": [(score, f"{answer}?score={score}") for score in SCALE],
        "unsubscribe_url": base + reverse("surveys:unsubscribe", args=[token]),
    }


@dataclass(frozen=True)
class _Rendered:
    subject: str
    body_text: str
    body_html: str
    unsubscribe_url: str


def render_survey_email(invitation: Invitation, *, reminder: bool, first_name: str, token: str) -> _Rendered:
    """Render the three templates for one invitation (or for placeholders)."""
    program = invitation.program
    links = invitation_links(token)
    brand = Branding.current()
    logo_url = settings.SITE_URL.rstrip("/") + reverse("surveys:brand_logo", args=[brand.version]) if brand.logo else ""
    with translation.override(supported_language(invitation.contact.locale)):
        context = {
            "program": program,
            "brand": brand,
            "logo_url": logo_url,
            "first_name": first_name,
            "question": program.question_text,
            "intro": fill(program.intro_text, product=program.product_name, first_name=first_name),
            "reminder": reminder,
            "expires_at": invitation.expires_at,
            **links,
        }
        context["subject"] = fill(program.subject_text, product=program.product_name, first_name=first_name)
        subject = render_to_string("emails/survey/subject.txt", context)
        return _Rendered(
            subject=" ".join(subject.split())[:998],
            body_text=render_to_string("emails/survey/body.txt", context),
            body_html=render_to_string("emails/survey/body.html", context),
            unsubscribe_url=links["unsubscribe_url"],
        )


class SurveyMailer:
    """Builds survey emails for many invitations, rendering each variant of the templates once."""

    def __init__(self) -> None:
        self._variants: dict[tuple, _Rendered] = {}

    def _variant(self, invitation: Invitation, reminder: bool, named: bool) -> _Rendered:
        key = (
            invitation.program_id,
            supported_language(invitation.contact.locale),
            reminder,
            named,
            timezone.localdate(invitation.expires_at),
        )
        if key not in self._variants:
            self._variants[key] = render_survey_email(
                invitation, reminder=reminder, first_name=FIRST_NAME if named else "", token=TOKEN
            )
        return self._variants[key]

    def build(
        self, invitation: Invitation, *, reminder: bool = False, key: str | None = None, bodies: bool = True
    ) -> OutgoingEmail:
        """An unsaved outgoing row for an invitation (or its one reminder), in the contact's language.

        With `bodies=False` the row keeps subject and headers only; `render_on_send` renders the
        bodies when the outbox sends it (the key names the invitation).
        """
        program: Program = invitation.program
        contact = invitation.contact
        first_name = contact.first_name
        variant = self._variant(invitation, reminder, bool(first_name))

        def merge(text: str, name: str) -> str:
            return text.replace(FIRST_NAME, name).replace(TOKEN, invitation.token)

        kind = "survey_reminder" if reminder else "survey"
        unsubscribe_url = merge(variant.unsubscribe_url, "")
        return OutgoingEmail(
            key=key or f"{kind}:{invitation.pk}",
            kind=kind,
            to=contact.email,
            from_email=program.sender,
            subject=merge(variant.subject, " ".join(first_name.split()))[:998],
            # A wave's thousands go after staff notifications and event-triggered surveys.
            priority=Priority.BULK if invitation.wave_id else Priority.HIGH,
            body_text=merge(variant.body_text, first_name) if bodies else "",
            body_html=merge(variant.body_html, escape(first_name)) if bodies else "",
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )


def survey_email(invitation: Invitation, *, reminder: bool = False, key: str | None = None) -> OutgoingEmail:
    """One survey email (previews, tests); use a `SurveyMailer` for many."""
    return SurveyMailer().build(invitation, reminder=reminder, key=key)


@renderer_register("survey", "survey_reminder")
def render_on_send(rows) -> dict[int, tuple[str, str]]:
    """The bodies of queued survey rows (keys "survey:<invitation id>"), rendered as a batch."""
    invitation_ids = {row.pk: int(row.key.partition(":")[2]) for row in rows}
    invitations = (
        Invitation.objects.select_related("program", "contact")
        .only("token_nonce", "expires_at", "wave", "program", "contact__name", "contact__email", "contact__locale")
        .in_bulk(invitation_ids.values())
    )
    mailer = SurveyMailer()
    bodies = {}
    for row in rows:
        invitation = invitations.get(invitation_ids[row.pk])
        if invitation is not None:
            built = mailer.build(invitation, reminder=row.kind == "survey_reminder", key=row.key)
            bodies[row.pk] = (built.body_text, built.body_html)
    return bodies
