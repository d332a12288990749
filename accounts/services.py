"""Writes for staff: API tokens, password reset requests, the accounts tick."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from config.queueing import enqueue_on_commit

from .models import ApiToken, PasswordResetRequest, User

# One reset email per address in this window, however often the form is sent.
RESET_REPEAT_WINDOW = timedelta(minutes=5)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, user: User, name: str, created_by: User | None = None, scope: str = "write"
) -> tuple[ApiToken, str]:
    """Create a token for a staff user. Returns the row and the key, which is never stored."""
    key = "rb_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, scope=scope, prefix=key[:8], key_hash=hash_key(key), created_by=created_by or user
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def password_reset_request(*, email: str, domain: str, use_https: bool) -> None:
    """Store the request (one INSERT, known address or not) and wake the worker."""
    PasswordResetRequest.objects.create(email=email.strip().lower(), domain=domain[:255], use_https=use_https)
    from .tasks import password_resets_send

    enqueue_on_commit(password_resets_send)


def password_resets_send(limit: int = 100) -> int:
    """Work the stored requests: an address with an active account gets Django's reset email
    through the outbox (at most one per RESET_REPEAT_WINDOW). Returns how many were worked."""
    from .forms import OutboxPasswordResetForm

    worked = 0
    now = timezone.now()
    with transaction.atomic():
        pending = list(
            PasswordResetRequest.objects.select_for_update(skip_locked=True)
            .filter(done_at__isnull=True)
            .order_by("created_at")[:limit]
        )
        for item in pending:
            recent = PasswordResetRequest.objects.filter(
                email=item.email, done_at__gte=now - RESET_REPEAT_WINDOW
            ).exists()
            if not recent:
                form = OutboxPasswordResetForm(data={"email": item.email})
                if form.is_valid():
                    form.save(domain_override=item.domain, use_https=item.use_https)
            item.done_at = now
            item.save(update_fields=["done_at"])
            worked += 1
    return worked


def tick(now=None) -> dict[str, int]:
    """The accounts tick: reset requests a lost message left; the audit trail's retention."""
    from . import audit

    return {"password_resets": password_resets_send(), "audit_pruned": audit.prune(now)}
