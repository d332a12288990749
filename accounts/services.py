"""Writes for staff: API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from .models import ApiToken, User


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str, created_by: User | None = None) -> tuple[ApiToken, str]:
    """Create a token for a staff user. Returns the row and the key, which is never stored."""
    key = "rb_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:8], key_hash=hash_key(key), created_by=created_by or user
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
