"""Sending outgoing email rows: claim with a lease, send, record each message, recover the dead.

The rules (docs/RELIABILITY.md shows them under faults):
- A sender claims a few due rows at a time (queued → sending) with a lease it renews while it works.
- Each message is recorded as sent by one UPDATE right after the mail server accepted it, so a sender
  killed mid-batch leaves at most the one message it was handing over in doubt.
- Rows whose lease ran out (their sender died) go back to the queue at the next tick; rows a sender
  never handed to the mail server are never failed, and a dead or silent mail server costs nothing
  but time: the connection error is recorded and the rows wait a minute, attempts untouched.
- A refusal from the mail server counts as an attempt: 4xx retries with backoff, 5xx fails at once,
  and a 5xx for the recipient is a bounce (the contact is never surveyed again).
- Celery messages only wake senders up. The tick wakes them whenever due rows exist, so a broker
  that lost its messages delays mail by one tick at most.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError, IntegrityError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from config.db import prepare_threshold
from config.queueing import enqueue_on_commit

from .mime import smtp_bytes
from .models import EmailStatus, MailEvent, MailEventKind, OutgoingEmail

logger = logging.getLogger(__name__)

# Refusals from the mail server (4xx) before a row fails for good: 1+2+4+…+64 minutes ≈ 2 hours,
# long enough to outlast greylisting and a mailbox that is briefly over quota.
MAX_ATTEMPTS = 8
CLAIM_SIZE = 100
# A mail server that cannot be reached: the claimed rows wait this long (attempts untouched).
UNREACHABLE_RETRY = timedelta(minutes=1)
# Set when the Celery worker starts a warm shutdown: a sender stops after its current message.
_stopping = False


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


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


def email_from_templates(
    kind: str, *, key: str, to: str, context: dict[str, Any], from_email: str | None = None, zone=None
) -> OutgoingEmail:
    """An unsaved row from `emails/<kind>/subject.txt`, `body.txt` and `body.html`.

    `zone`: the recipient's time zone (a staff member's User.zone); dates render in it and the
    templates can name it as `zone`. Without it, the site's TIME_ZONE."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import timezone

    with timezone.override(zone):
        context = {**context, "zone": timezone.get_current_timezone()}
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


def emails_queue_and_send(rows: Sequence[OutgoingEmail], *, wake: bool = True) -> None:
    """Store rows (a known key is left alone) and wake a sender after commit (`wake=False`: the
    caller wakes one for many, as the answer router does per batch)."""
    if not rows:
        return
    emails_queue(rows, fetch=False)
    if wake:
        emails_wake()  # a row whose key existed already: the sender just finds nothing due


def emails_wake(senders: int = 1) -> None:
    """Ask for `senders` send tasks after commit. Losing the messages costs one tick, nothing more."""
    from .tasks import send_due

    for _ in range(senders):
        enqueue_on_commit(send_due)


# Sending ------------------------------------------------------------------------------------------


def emails_claim(claim: str, *, limit: int = CLAIM_SIZE, ids: Iterable[int] | None = None) -> list[OutgoingEmail]:
    """Move due, queued rows to "sending" under `claim`; rows another sender holds are skipped."""
    now = timezone.now()
    with transaction.atomic():
        due = OutgoingEmail.objects.due(now)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        claimed = list(due.select_for_update(skip_locked=True).order_by("priority", "pk")[:limit])
        if claimed:
            OutgoingEmail.objects.filter(pk__in=[r.pk for r in claimed]).update(
                status=EmailStatus.SENDING, claimed_at=now, claimed_by=claim, lease_until=now + lease()
            )
    for row in claimed:
        row.status, row.claimed_at, row.claimed_by = EmailStatus.SENDING, now, claim
    return claimed


def _held(claim: str, pks: Iterable[int]):
    return OutgoingEmail.objects.filter(pk__in=list(pks), claimed_by=claim, status=EmailStatus.SENDING)


def _release(claim: str, pks: Iterable[int] | None = None, *, error: str = "", delay: timedelta | None = None) -> int:
    """Put rows this sender holds but never handed to the mail server back in the queue."""
    rows = (
        _held(claim, pks)
        if pks is not None
        else OutgoingEmail.objects.filter(claimed_by=claim, status=EmailStatus.SENDING)
    )
    changes: dict[str, Any] = {"status": EmailStatus.QUEUED, "claimed_by": "", "lease_until": None}
    if error:
        changes["last_error"] = error[:2000]
    if delay:
        changes["next_attempt_at"] = timezone.now() + delay
    return rows.update(**changes)


def emails_recover(now: datetime | None = None) -> int:
    """Queue again the rows of senders that stopped renewing their lease (killed, or cut off)."""
    now = now or timezone.now()
    recovered = OutgoingEmail.objects.lease_expired(now).update(
        status=EmailStatus.QUEUED,
        claimed_by="",
        lease_until=None,
        last_error="Its sender stopped before finishing (worker killed or cut off); queued again.",
    )
    if recovered:
        logger.warning("Queued %s email(s) again whose sender stopped holding them.", recovered)
    return recovered


def _refusal(exc: Exception) -> tuple[bool, bool]:
    """(permanent, bounce) for an error sending one message."""
    if isinstance(exc, LookupError):
        return True, False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        return permanent, permanent
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500, False
    if type(exc).__name__ == "AnymailRecipientsRefused":  # the ESP rejected the address itself
        return True, True
    return False, False


def _lost_connection(exc: Exception) -> bool:
    """The connection itself broke (smtplib's errors are OSErrors too, but most are answers)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reasons = "; ".join(f"{code} {_text(msg)}" for code, msg in exc.recipients.values())
        return f"Recipient refused: {reasons}"[:2000]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


# The table name comes from the model, never from input.
SENT_SQL = (
    f"UPDATE {OutgoingEmail._meta.db_table} SET status = 'sent', sent_at = %s, last_error = '', "  # noqa: S608
    "claimed_by = '', lease_until = NULL, provider_message_id = %s WHERE id = %s AND claimed_by = %s"
)


class MarkFailed(Exception):
    """Recording a message as sent failed (the database): the sender stops, as with any database error."""


class _Marks:
    """Records "sent" marks on a PostgreSQL connection of its own, from a thread: the UPDATE of one
    message runs while the next message is built, and is waited for (`settle`) before the next
    message is handed to the mail server. So a killed sender still leaves at most one message in
    doubt, and the sender does not wait a round trip per message. Used outside a transaction only
    (the marks must see the committed claim); inside one (tests, or a caller's atomic block) and on
    SQLite, the sender records each mark on its own connection."""

    def __init__(self) -> None:
        import psycopg

        params = db_connection.get_connection_params() | {"prepare_threshold": prepare_threshold()}
        self.connection = psycopg.connect(**params, autocommit=True)  # it runs one statement: prepared
        self.connection.execute("SET synchronous_commit TO OFF")  # see _commits_unflushed
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-marks")
        self.pending: Future | None = None

    @staticmethod
    def usable() -> bool:
        return db_connection.vendor == "postgresql" and not db_connection.in_atomic_block

    def record(self, params: list) -> None:
        self.settle()
        self.pending = self.thread.submit(self.connection.execute, SENT_SQL, params)

    def settle(self) -> None:
        """Wait for the last mark; its database error, if any, is raised here."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            try:
                pending.result()
            except Exception as exc:
                raise MarkFailed(f"Recording a sent email failed: {exc}") from exc

    def close(self) -> None:
        try:
            self.settle()
        finally:
            self.thread.shutdown()
            self.connection.close()


class _Sender:
    """One claim's sending state: its connection, its counts and its lease renewals."""

    def __init__(self, claim: str) -> None:
        self.claim = claim
        self.connection: Any = None
        self.counts: Counter[str] = Counter()
        self.renewed = time.monotonic()
        self.marks: _Marks | None = None

    def open(self, rows: list[OutgoingEmail]) -> bool:
        if self.connection is None:
            self.connection = get_connection(fail_silently=False)
        try:
            self.connection.open()
        except Exception as exc:  # noqa: BLE001 - the server is down, slow or refusing us: the rows wait
            self.close()
            error = f"Mail server unreachable: {_describe(exc)}"
            logger.warning("%s; %s email(s) wait %s.", error, len(rows), UNREACHABLE_RETRY)
            self.counts["waiting"] += _release(self.claim, [r.pk for r in rows], error=error, delay=UNREACHABLE_RETRY)
            return False
        return True

    def settle(self) -> None:
        """Every message handed over so far is recorded (before anything else writes its rows)."""
        if self.marks is not None:
            self.marks.settle()

    def finish(self) -> None:
        if self.marks is not None:
            marks, self.marks = self.marks, None
            marks.close()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - the messages are recorded already
                logger.info("Closing the mail connection failed", exc_info=True)
            self.connection = None

    def renew(self, pending: list[OutgoingEmail]) -> list[OutgoingEmail]:
        """Renew the lease on the rows still to send; drop any the tick gave back to the queue."""
        if time.monotonic() - self.renewed < settings.OUTBOX_LEASE_SECONDS / 4:
            return pending
        self.renewed = time.monotonic()
        held = _held(self.claim, [r.pk for r in pending])
        kept = held.update(lease_until=timezone.now() + lease())
        if kept == len(pending):
            return pending
        still = set(held.values_list("pk", flat=True))
        return [row for row in pending if row.pk in still]

    def send(self, rows: list[OutgoingEmail]) -> bool:
        """Send claimed rows in order; False when the connection broke (the rest is released)."""
        bodies_render(rows)
        pending = list(rows)
        while pending:
            pending = self.renew(pending)
            if not pending or _stopping:
                break
            row = pending.pop(0)
            try:
                message = self._send_one(row)
            except MarkFailed:
                raise  # the database, not this message: stop (what was not handed over goes back)
            except Exception as exc:  # noqa: BLE001 - recorded on the row: retried, failed or bounced
                self._failed(row, exc)
                if _lost_connection(exc):
                    self.close()
                    _release(self.claim, [r.pk for r in pending])
                    return False
                continue
            self._sent(row, message)
        return True

    def _send_one(self, row: OutgoingEmail) -> EmailMultiAlternatives | None:
        """Hand one row to the mail server. Over SMTP, a plain message is written directly
        (outbox/mime.py); anything else, and every ESP backend, goes through Django's EmailMessage."""
        smtp = getattr(self.connection, "connection", None) if isinstance(self.connection, SMTPBackend) else None
        if smtp is not None and row.body_text:
            built = smtp_bytes(
                subject=row.subject, from_email=row.from_email, to=row.to, text=row.body_text, html=row.body_html,
                headers=row.headers,
            )  # fmt: skip
            if built is not None:
                if "data" not in vars(smtp):  # once per connection
                    smtp.data = functools.partial(_data_settled, smtp, self.settle)
                smtp.sendmail(built[0], [row.to], built[1])
                return None
        message = email_build(row)
        self.settle()
        self.connection.send_messages([message])
        return message

    def _sent(self, row: OutgoingEmail, message: EmailMultiAlternatives | None) -> None:
        # The hot path of a wave: one plain statement per message (the ORM's query building costs
        # more than the UPDATE itself). A server-side prepared statement measured no difference.
        status = getattr(message, "anymail_status", None)
        params = [timezone.now(), (getattr(status, "message_id", None) or "")[:255], row.pk, self.claim]
        if self.marks is None and _Marks.usable():
            self.marks = _Marks()
        if self.marks is not None:
            self.marks.record(params)
        else:
            with db_connection.cursor() as cursor:
                cursor.execute(SENT_SQL, params)
        self.counts["sent"] += 1

    def _failed(self, row: OutgoingEmail, exc: Exception) -> None:
        self.settle()
        permanent, bounce = _refusal(exc)
        error = _describe(exc)
        attempts = row.attempts + 1
        mine = OutgoingEmail.objects.filter(pk=row.pk, claimed_by=self.claim)
        if permanent or attempts >= MAX_ATTEMPTS:
            mine.update(status=EmailStatus.FAILED, attempts=attempts, last_error=error, claimed_by="", lease_until=None)
            logger.warning("Email %s failed for good after %s attempt(s): %s", row.pk, attempts, error)
            self.counts["failed"] += 1
            if bounce:
                mail_event_record(kind=MailEventKind.BOUNCED, recipient=row.to, source="smtp", detail=error, email=row)
            return
        mine.update(
            status=EmailStatus.QUEUED,
            attempts=attempts,
            last_error=error,
            claimed_by="",
            lease_until=None,
            next_attempt_at=timezone.now() + retry_delay(attempts),
        )
        self.counts["retrying"] += 1


def _data_settled(smtp: smtplib.SMTP, settle: Callable[[], None], message: bytes):
    """SMTP DATA once the previous message's "sent" mark is written. smtplib's sendmail sends MAIL and
    RCPT first, so the mark's round trip overlaps theirs; the server can accept this message only
    after the previous one is recorded, so a killed sender leaves one message in doubt at most."""
    try:
        settle()
    except MarkFailed:
        try:
            smtp.rset()  # MAIL and RCPT were sent: end that transaction, nothing is accepted
        except (smtplib.SMTPException, OSError):
            logger.info("Resetting the SMTP transaction failed", exc_info=True)
        raise
    return smtplib.SMTP.data(smtp, message)


def emails_send_due(*, ids: Iterable[int] | None = None, seconds: float | None = None) -> dict[str, int]:
    """Send due rows (only `ids`, if given) in claims of a few at a time, for up to `seconds`.

    Safe to run any number of times at once: each claim is its own. Returns counts of sent, failed,
    retrying (a 4xx, backed off) and waiting (the mail server could not be reached).
    """
    claim = uuid.uuid4().hex
    deadline = time.monotonic() + (seconds if seconds is not None else settings.OUTBOX_DRAIN_SECONDS)
    ids = list(ids) if ids is not None else None
    sender = _Sender(claim)
    more = False
    try:
        _commits_unflushed(True)
        while not _stopping:
            if time.monotonic() >= deadline:
                more = OutgoingEmail.objects.due(timezone.now()).exists()
                break
            rows = emails_claim(claim, ids=ids)
            if not rows or not sender.open(rows):
                break
            sender.send(rows)
    finally:
        sender.close()
        sender.finish()  # every "sent" mark is written before the rest of the claim goes back
        _release(claim)  # a shutdown or an unexpected error: what was never handed over goes back
        _commits_unflushed(False)
    if more:
        emails_wake()
    return {key: sender.counts[key] for key in ("sent", "failed", "retrying", "waiting")}


def _commits_unflushed(on: bool) -> None:
    """One "sent" UPDATE per message is the price of a one-message crash window. On PostgreSQL,
    with synchronous_commit off for the sender's session, a commit does not wait for the disk
    (≈ 0.1 ms instead of a WAL flush each). A killed worker loses nothing by it; only a crash of
    PostgreSQL itself could forget the last fraction of a second of "sent" marks (wal_writer_delay
    × 3), whose messages would then be sent once more. docs/RELIABILITY.md says so."""
    if db_connection.vendor != "postgresql":
        return
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF" if on else "RESET synchronous_commit")
    except DatabaseError:
        if on:
            raise
        logger.info("Could not reset synchronous_commit; the connection is gone", exc_info=True)


def emails_tick(now: datetime | None = None) -> dict[str, int]:
    """The outbox's share of the tick: recover dead senders' rows, wake senders if anything is due."""
    now = now or timezone.now()
    recovered = emails_recover(now)
    due = OutgoingEmail.objects.due(now).count()
    if due:
        emails_wake(min(settings.OUTBOX_SENDERS, -(-due // CLAIM_SIZE)))
    return {"recovered": recovered, "due": due}


# Delivery problems --------------------------------------------------------------------------------

# Apps that own the recipients (customers) act on delivery problems: (kind, recipient, detail).
MailEventHandler = Callable[[str, str, str], None]
_event_handlers: list[MailEventHandler] = []


def mail_event_handler(function: MailEventHandler) -> MailEventHandler:
    _event_handlers.append(function)
    return function


def mail_event_record(
    *,
    kind: str,
    recipient: str,
    source: str,
    detail: str = "",
    email: OutgoingEmail | None = None,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> MailEvent | None:
    """Record a bounce, complaint or unsubscribe and tell the owning apps. A repeated event_id is
    a no-op (ESPs retry webhooks), and None is returned."""
    recipient = (recipient or "").strip().lower()
    try:
        with transaction.atomic():
            event = MailEvent.objects.create(
                kind=kind, recipient=recipient, source=source[:32], detail=detail[:4000], email=email,
                event_id=event_id or None, occurred_at=occurred_at or timezone.now(),
            )  # fmt: skip
            for handler in _event_handlers:
                handler(kind, recipient, detail)
    except IntegrityError:
        return None
    return event
