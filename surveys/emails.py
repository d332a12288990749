"""The survey email: one small function builds it from three templates."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from outbox.models import OutgoingEmail

from .models import Invitation, fill

SCALE = range(11)


def supported_language(locale: str) -> str:
    code = (locale or "en").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def invitation_links(invitation: Invitation) -> dict:
    base = settings.SITE_URL
    answer = base + reverse("surveys:answer", args=[invitation.token])
    return {
        "answer_url": answer,
        "score_urls": [(score, f"{answer}?score={score}") for score in SCALE],
        "unsubscribe_url": base + reverse("surveys:unsubscribe", args=[invitation.token]),
    }


def survey_email(invitation: Invitation, *, reminder: bool = False, key: str | None = None) -> OutgoingEmail:
    """An unsaved outgoing row for an invitation (or its one reminder), in the contact's language."""
    program, contact = invitation.program, invitation.contact
    links = invitation_links(invitation)
    first_name = contact.first_name
    with translation.override(supported_language(contact.locale)):
        context = {
            "program": program,
            "contact": contact,
            "first_name": first_name,
            "question": program.question_text,
            "intro": fill(program.intro, product=program.product_name, first_name=first_name),
            "reminder": reminder,
            "expires_at": invitation.expires_at,
            **links,
        }
        context["subject"] = fill(program.subject, product=program.product_name, first_name=first_name)
        subject = render_to_string("emails/survey/subject.txt", context)
        body_text = render_to_string("emails/survey/body.txt", context)
        body_html = render_to_string("emails/survey/body.html", context)
    kind = "survey_reminder" if reminder else "survey"
    return OutgoingEmail(
        key=key or f"{kind}:{invitation.pk}",
        kind=kind,
        to=contact.email,
        from_email=program.sender,
        subject=" ".join(subject.split())[:998],
        body_text=body_text,
        body_html=body_html,
        headers={
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
