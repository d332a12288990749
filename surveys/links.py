"""Shared links: a program's public link (and QR code) that anyone may answer from — events, kiosks,
support signatures — kept in their own survey channel (``Via.LINK``) so they never mix with the
identified answers of emailed invitations.

An answer from the bare link is anonymous: it belongs to one hidden contact of a hidden account
(never listed, never in a wave), counts in the figures split by channel, and opens no follow-up task
(there is nobody to call back). A link may name a contact with a parameter signed by Rebound
(``identity_for``); the answer is then that contact's, with the usual routing and follow-up, and a
forged or altered parameter is refused.
"""

from __future__ import annotations

import io
import secrets

from django.core import signing
from django.db import transaction
from django.utils import timezone

from customers.models import Account, Contact

from .answers import SubmitResult, response_submit
from .models import Invitation, Program, Via
from .services import invitation_fields

ANONYMOUS_ACCOUNT_EXTERNAL_ID = "rebound-anonymous"
ANONYMOUS_EMAIL = "anonymous@rebound.invalid"  # .invalid: never deliverable (RFC 2606)
SALT = "rebound.shared-link"


def share_link_enable(program: Program) -> str:
    """A new unguessable token for the program's link (an earlier link stops working)."""
    program.share_token = secrets.token_urlsafe(24)
    Program.objects.filter(pk=program.pk).update(share_token=program.share_token)
    return program.share_token


def share_link_disable(program: Program) -> None:
    program.share_token = None
    Program.objects.filter(pk=program.pk).update(share_token=None)


def program_for_link(token: str) -> Program | None:
    if not token or len(token) > 64:
        return None
    return Program.objects.filter(share_token=token, is_active=True).first()


def anonymous_contact() -> Contact:
    account, _ = Account.objects.get_or_create(
        external_id=ANONYMOUS_ACCOUNT_EXTERNAL_ID,
        defaults={"name": "Anonymous answers (shared links)", "is_test": True},
    )
    contact, _ = Contact.objects.get_or_create(email=ANONYMOUS_EMAIL, defaults={"account": account, "name": ""})
    return contact


def is_anonymous(answer) -> bool:
    """An invitation or response from a shared link without a named contact (reads the contact only
    for the link channel: routing calls this for every answer)."""
    return answer.via == Via.LINK and answer.contact.email == ANONYMOUS_EMAIL


def identity_for(program: Program, contact: Contact) -> str:
    """The signed parameter that makes the program's link answer as this contact."""
    return signing.dumps([program.pk, contact.pk], salt=SALT, compress=False)


def contact_from_identity(program: Program, value: str) -> Contact | None:
    """The contact a signed parameter names; raises signing.BadSignature if forged, altered or another
    program's."""
    program_id, contact_id = signing.loads(value, salt=SALT)
    if program_id != program.pk:
        raise signing.BadSignature("Signed for another program.")
    return Contact.objects.filter(pk=contact_id, account__is_test=False).select_related("account").first()


def link_answer(
    *, program: Program, contact: Contact | None, score: int, reason: str, device_class: str = "", language: str = ""
) -> tuple[Invitation, SubmitResult]:
    """Record an answer from the shared link: an invitation in the link channel (never emailed), and
    its response. Anonymous without a contact."""
    contact = contact or anonymous_contact()
    with transaction.atomic():
        invitation = Invitation.objects.create(via=Via.LINK, **invitation_fields(program, contact, timezone.now()))
        invitation.contact, invitation.account = contact, contact.account
        result = response_submit(
            invitation=invitation, score=score, reason=reason, device_class=device_class, language=language
        )
    return invitation, result


def qr_svg(url: str) -> str:
    """The link as a QR code (SVG, no external resources), drawn by segno."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True, title="QR code")
    return out.getvalue().decode()
