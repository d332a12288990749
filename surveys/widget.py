"""The in-app widget: a SaaS asks its signed-in users the NPS question in a corner of its own product.

The host's backend signs who the user is — ``HMAC-SHA256(program's widget secret, "<program id>:<user>:<unix
time>")`` in hex, where the user is the contact's email or external id — and puts it on the script tag,
so nobody can answer as someone else; a signature older than a day is refused. The widget then asks
Rebound whether to show the question (``ask``): only to a known contact the program may ask now — the
same audience, fatigue and quiet-period rules as email, across both streams — and shows the same
unanswered question again on the next page rather than asking twice. The answer (``answer``) is a
normal response in the ``in_app`` channel, with the same routing and follow-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Contact

from .models import Invitation, Program, Via, derive_token
from .selectors import contact_skip_reason
from .services import invitation_fields

MAX_AGE = 24 * 3600  # seconds a host's signature stays valid (one page view per day at least)
REUSE = 24 * 3600  # an unanswered widget question is shown again for this long, not asked anew


class WidgetRefused(Exception):
    """The call is not signed right, or names no program that has the widget."""


def signature(secret: str, program_id: int, user: str, timestamp: int) -> str:
    message = f"{program_id}:{user}:{timestamp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def secret_create(program: Program) -> str:
    program.widget_secret = "rwk_" + secrets.token_urlsafe(32)
    Program.objects.filter(pk=program.pk).update(widget_secret=program.widget_secret)
    return program.widget_secret


def allowed_origins(program: Program) -> set[str]:
    return {line.strip().rstrip("/") for line in program.widget_origins.splitlines() if line.strip()}


def program_for(program_id) -> Program:
    try:
        program = Program.objects.filter(pk=int(program_id), is_active=True).exclude(widget_secret="").first()
    except (TypeError, ValueError):
        program = None
    if program is None:
        raise WidgetRefused("No program with the widget.")
    return program


def verify(program: Program, user: str, timestamp, sig: str, now: float | None = None) -> None:
    try:
        timestamp = int(timestamp)
    except (TypeError, ValueError):
        raise WidgetRefused("Bad timestamp.") from None
    if not user or len(user) > 254 or abs((now or time.time()) - timestamp) > MAX_AGE:
        raise WidgetRefused("Signature expired or user missing.")
    expected = signature(program.widget_secret, program.pk, user, timestamp)
    if not hmac.compare_digest(expected, str(sig or "")):
        raise WidgetRefused("Bad signature.")


def contact_for(user: str) -> Contact | None:
    found = Contact.objects.filter(account__is_test=False).select_related("account")
    return found.filter(Q(email__iexact=user) | Q(external_id=user)).order_by("pk").first()


@dataclass(frozen=True)
class Ask:
    show: bool
    token: str = ""
    reason: str = ""


def ask(program: Program, contact: Contact | None) -> Ask:
    """Whether to show the question to this user now, and the token its answer goes to."""
    if contact is None:
        return Ask(False, reason="unknown_user")
    now = timezone.now()
    open_one = (
        Invitation.objects.filter(
            program=program, contact=contact, via=Via.IN_APP, responded_at__isnull=True, expires_at__gt=now,
            created_at__gt=now - timedelta(seconds=REUSE),
        )
        .order_by("-created_at")
        .first()
    )  # fmt: skip
    if open_one:
        return Ask(True, token=derive_token(open_one.token_nonce))
    reason = contact_skip_reason(program, contact, now)
    if reason:
        return Ask(False, reason=reason)
    with transaction.atomic():
        invitation = Invitation.objects.create(via=Via.IN_APP, **invitation_fields(program, contact, now))
    return Ask(True, token=derive_token(invitation.token_nonce))
