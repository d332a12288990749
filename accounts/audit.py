"""The staff audit trail: every staff write recorded as who, when, what, before and after.

Views and services call ``record`` (or ``change``, which takes the before/after snapshots
itself) with the acting user; the client IP comes from the request the middleware saw. Entries
are append-only (the model refuses updates and deletes); ``prune`` drops those older than
AUDIT_RETENTION_DAYS and is run by the accounts tick.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .models import AuditEntry, AuditEntryQuerySet

_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)
# Never copied into the trail, whatever the model.
SECRET_FIELDS = {"password", "key_hash", "token_hash", "token_nonce", "key", "secret"}


class AuditMiddleware:
    """Remember the client IP of the request being served, for the entries it writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from config.clientip import client_ip

        marker = _client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(marker)


def json_value(value: Any) -> Any:
    """A value as JSON can hold it (dates as ISO text, decimals as text, rows as their ids)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_value(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def snapshot(obj: models.Model | None, fields: Iterable[str] | None = None) -> dict[str, Any] | None:
    """The object's field values as JSON (foreign keys as ids, secrets left out)."""
    if obj is None:
        return None
    wanted = set(fields) if fields is not None else None
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS or (wanted is not None and field.name not in wanted):
            continue
        values[field.name] = json_value(field.value_from_object(obj))
    for field in obj._meta.many_to_many:
        if (wanted is None or field.name in wanted) and obj.pk is not None:
            values[field.name] = sorted(o.pk for o in field.value_from_object(obj))
    return values


def record(
    actor,
    action: str,
    target: models.Model | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    label: str = "",
) -> AuditEntry:
    """Write one entry. ``actor`` is the staff user (None: Rebound itself, e.g. a retention job)."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=(label or (str(target) if target is not None else ""))[:200],
        before=json_value(before) if before is not None else None,
        after=json_value(after) if after is not None else None,
        ip=_client_ip.get(),
    )


@contextmanager
def change(actor, action: str, obj: models.Model | None, *, fields: Iterable[str] | None = None) -> Iterator[dict]:
    """Snapshot ``obj`` before the block and after it; record the entry when the block ends.

    The block may create the object: put it in the yielded dict as ``box["obj"]``."""
    box: dict[str, Any] = {"obj": obj}
    before = None
    if obj is not None and obj.pk is not None:
        # From the database: a bound ModelForm has already copied the new values onto obj.
        before = snapshot(type(obj)._default_manager.filter(pk=obj.pk).first(), fields)
    yield box
    target = box["obj"]
    if target is not None and target.pk is not None:
        target.refresh_from_db()
    after = snapshot(target, fields)
    if before != after:
        record(actor, action, target, before=before, after=after)


def prune(now: datetime.datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS (0 keeps everything). Returns how many."""
    days = settings.AUDIT_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    old = AuditEntry.objects.filter(at__lt=cutoff)
    deleted, _ = super(AuditEntryQuerySet, old).delete()
    return deleted
