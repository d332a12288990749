"""Sending outgoing email rows: claim, send over one connection, record the outcome."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import EmailStatus, OutgoingEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 100
# Sent rows are recorded in groups of this many, one UPDATE each.
SENT_FLUSH = 25
# A queued row whose send task has not run this long after dispatch is dispatched again
# (the broker lost it, or the worker died before taking it). Claiming keeps that safe.
REDISPATCH_AFTER = timedelta(minutes=10)
# A row left in "sending" this long was interrupted mid-send: it may or may not have been
# delivered, so it is failed for a person to look at rather than sent a second time.
SENDING_STALE_AFTER = timedelta(minutes=30)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, 8 … minutes after each failed attempt."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


# Bulk mail (a wave of survey emails) is not stored rendered: 100,000 copies of one template would
# fill the database. Rows of a registered kind leave their bodies empty, and the app that owns the
# kind renders them in batches when they are sent. A renderer takes rows and returns
# {row id: (text, html)}; a row it cannot render is failed.
Renderer = Callable[[Sequence[OutgoingEmail]], dict[int, tuple[str, str]]]
_renderers: dict[str, Renderer] = {}


def renderer_register(*kinds: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        for kind in kinds:
            _renderers[kind] = function
        return function

    return register


def bodies_render(rows: Sequence[OutgoingEmail]) -> None:
    """Fill in the bodies of rows rendered at send time (in memory; they are not saved)."""
    pending: dict[str, list[OutgoingEmail]] = {}
    for row in rows:
        if not row.body_text and row.kind in _renderers:
            pending.setdefault(row.kind, []).append(row)
    for kind, batch in pending.items():
        bodies = _renderers[kind](batch)
        for row in batch:
            row.body_text, row.body_html = bodies.get(row.pk, ("", ""))


def email_build(row: OutgoingEmail) -> EmailMultiAlternatives:
    if not row.body_text:
        bodies_render([row])
    if not row.body_text:
        raise LookupError(f"Nothing to send: {row.kind} email {row.pk} has no body and nothing renders it.")
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.body_text, from_email=row.from_email, to=[row.to], headers=row.headers
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def emails_queue(rows: Sequence[OutgoingEmail], *, fetch: bool = True) -> list[OutgoingEmail]:
    """Insert email rows; a row whose key exists already is left as it was (never sent twice).

    Returns the stored rows by key, unless `fetch` is False (callers that link rows by key).
    """
    OutgoingEmail.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return list(OutgoingEmail.objects.filter(key__in=[r.key for r in rows])) if fetch else []


def emails_claim(ids: Iterable[int]) -> list[OutgoingEmail]:
    """Move due, queued rows to "sending" and return them; rows another task holds are skipped."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            OutgoingEmail.objects.due(now).filter(pk__in=list(ids)).select_for_update(skip_locked=True).order_by("pk")
        )
        if claimed:
            OutgoingEmail.objects.filter(pk__in=[r.pk for r in claimed]).update(
                status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    for row in claimed:
        row.status, row.claimed_at, row.attempts = EmailStatus.SENDING, now, row.attempts + 1
    return claimed


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, LookupError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _record_failure(row: OutgoingEmail, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if _permanent(exc) or row.attempts >= MAX_ATTEMPTS:
        OutgoingEmail.objects.filter(pk=row.pk).update(status=EmailStatus.FAILED, last_error=error)
        logger.warning("Email %s failed for good after %s attempts: %s", row.pk, row.attempts, error)
    else:
        OutgoingEmail.objects.filter(pk=row.pk).update(
            status=EmailStatus.QUEUED,
            last_error=error,
            next_attempt_at=timezone.now() + retry_delay(row.attempts),
            dispatched_at=None,
        )


def emails_send(ids: Sequence[int], *, connection: Any = None) -> dict[str, int]:
    """Send the given rows over one connection. Only rows this call claims are sent."""
    rows = emails_claim(ids)
    counts = {"sent": 0, "failed": 0, "skipped": len(ids) - len(rows)}
    if not rows:
        return counts
    connection = connection or get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - every row gets the connection error
        for row in rows:
            _record_failure(row, exc)
        counts["failed"] = len(rows)
        return counts
    sent: list[int] = []
    try:
        bodies_render(rows)
        for row in rows:
            try:
                connection.send_messages([email_build(row)])
            except Exception as exc:  # noqa: BLE001 - recorded on the row, retried or failed
                _record_failure(row, exc)
                counts["failed"] += 1
                continue
            sent.append(row.pk)
            counts["sent"] += 1
            if len(sent) >= SENT_FLUSH:
                _record_sent(sent)
    finally:
        _record_sent(sent)
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - the messages are already recorded
            logger.info("Closing the mail connection failed", exc_info=True)
    return counts


def _record_sent(ids: list[int]) -> None:
    """Mark rows sent in one statement and empty the list. A crash before this leaves them
    "sending", which is failed later for a person to check, never sent again."""
    if ids:
        OutgoingEmail.objects.filter(pk__in=ids).update(status=EmailStatus.SENT, sent_at=timezone.now(), last_error="")
        ids.clear()


def emails_dispatch(now=None, *, limit: int = 100_000) -> int:
    """Queue send tasks for due rows not dispatched recently; fail rows stuck mid-send."""
    from .tasks import send_emails

    now = now or timezone.now()
    OutgoingEmail.objects.filter(status=EmailStatus.SENDING, claimed_at__lt=now - SENDING_STALE_AFTER).update(
        status=EmailStatus.FAILED,
        last_error="Interrupted while sending; not resent automatically, to avoid a duplicate.",
    )
    stale = now - REDISPATCH_AFTER
    due = (
        OutgoingEmail.objects.due(now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return 0
    OutgoingEmail.objects.filter(pk__in=ids).update(dispatched_at=now)
    batches = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]

    def enqueue() -> None:
        for batch in batches:
            send_emails.delay(batch)

    transaction.on_commit(enqueue)
    return len(ids)


def email_send_now(row: OutgoingEmail) -> None:
    """Queue one row for sending after commit (test mails, notifications)."""
    from .tasks import send_emails

    OutgoingEmail.objects.filter(pk=row.pk).update(dispatched_at=timezone.now())
    transaction.on_commit(lambda: send_emails.delay([row.pk]))


def email_from_templates(
    kind: str, *, key: str, to: str, context: dict[str, Any], from_email: str | None = None
) -> OutgoingEmail:
    """An unsaved row from `emails/<kind>/subject.txt`, `body.txt` and `body.html`."""
    from django.conf import settings
    from django.template.loader import render_to_string

    subject = " ".join(render_to_string(f"emails/{kind}/subject.txt", context).split())[:998]
    return OutgoingEmail(
        key=key,
        kind=kind,
        to=to,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        body_text=render_to_string(f"emails/{kind}/body.txt", context),
        body_html=render_to_string(f"emails/{kind}/body.html", context),
    )


def emails_queue_and_send(rows: Sequence[OutgoingEmail]) -> None:
    """Store rows (a known key is left alone) and send the new ones after commit."""
    from .tasks import send_emails

    if not rows:
        return
    stored = emails_queue(rows)
    fresh = [row.pk for row in stored if row.status == EmailStatus.QUEUED and row.dispatched_at is None]
    if fresh:
        OutgoingEmail.objects.filter(pk__in=fresh).update(dispatched_at=timezone.now())
        transaction.on_commit(lambda: send_emails.delay(fresh))
