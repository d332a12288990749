"""Writes for customers: the import job lifecycle, and what delivery problems do to a contact."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db.models import F
from django.utils import timezone

from config import jobs
from config.db import analyze_after_bulk_write
from config.events import publish
from config.queueing import enqueue_on_commit
from outbox.models import MailEventKind
from outbox.services import mail_event_handler

from .importing import IMPORTERS, FileRefused, import_customers
from .models import Account, Contact, ImportJob, ImportStatus

logger = logging.getLogger(__name__)

# An interrupted import runs again from the start, which is safe: imports are upserts.
IMPORT_RECOVERY = jobs.Recovery()
# What the account and contact imports write (the history importers refresh their own tables).
IMPORTED_TABLES = (Account, Contact)


def import_job_create(*, kind: str, upload: UploadedFile, user, options: dict | None = None) -> ImportJob:
    """Store an uploaded file and queue its import once the row is committed."""
    job = ImportJob.objects.create(
        kind=kind, file=upload, filename=upload.name[:255], created_by=user, options=options or {}
    )
    _dispatch(job.pk)
    return job


def _dispatch(job_id: int) -> None:
    from .tasks import run_import

    ImportJob.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    enqueue_on_commit(run_import, job_id)


def import_job_retry(*, job: ImportJob) -> bool:
    """Run a failed job again from the start (rows it saved are matched, not duplicated)."""
    if not ImportJob.objects.filter(pk=job.pk, status=ImportStatus.FAILED).update(
        status=ImportStatus.QUEUED, message="", attempts=0, processed_rows=0, finished_at=None
    ):
        return False
    _dispatch(job.pk)
    return True


def import_job_run(job_id: int) -> ImportJob | None:
    """Run one queued import. A job already claimed by another worker is left alone.

    Whatever happens, the job ends done or failed with a message a person can act on: a file
    refused as a whole, or an unexpected error (the chunks committed before it are kept).
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total, heartbeat_at=timezone.now())

    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        if job.kind in IMPORTERS:
            result = IMPORTERS[job.kind](data=data, options=job.options, progress=progress)
        else:
            result = import_customers(kind=job.kind, data=data, progress=progress)
    except FileRefused as exc:
        job.status, job.message = ImportStatus.FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - never leave a job "running": say what happened
        logger.exception("Import job %s stopped on an unexpected error", job_id)
        job.status = ImportStatus.FAILED
        job.message = (
            f"The import stopped on an unexpected error ({type(exc).__name__}: {str(exc)[:300]}). "
            "Rows in the chunks finished before it were saved; running it again is safe."
        )
    else:
        job.status = ImportStatus.DONE
        analyze_after_bulk_write(*IMPORTED_TABLES, rows=result.created + result.updated)
        job.total_rows = job.processed_rows = result.total
        job.created_count, job.updated_count = result.created, result.updated
        job.unchanged_count, job.error_count, job.errors = result.unchanged, result.error_count, result.errors
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status", "message", "total_rows", "processed_rows", "created_count", "updated_count",
            "unchanged_count", "error_count", "errors", "finished_at",
        ]
    )  # fmt: skip
    return job


def imports_recover(now: datetime | None = None) -> dict[str, int]:
    """Restart imports whose worker died (or fail them after a few tries), re-dispatch lost ones."""
    gave_up = (
        f"The import was interrupted {IMPORT_RECOVERY.max_attempts} times (its worker stopped). "
        "Rows in finished chunks were saved; run it again when the workers are healthy."
    )
    return jobs.recover(ImportJob, _dispatch, policy=IMPORT_RECOVERY, gave_up=gave_up, now=now)


def tick(now: datetime | None = None) -> dict[str, int]:
    from .dataprotection import retention_apply

    return {**imports_recover(now), **retention_apply(now)}


# Unsubscribes and delivery problems -----------------------------------------------------------------


def contacts_unsubscribe(contacts) -> int:
    """Unsubscribe the contacts of a queryset that are not already: no program mails them again
    (checked at every send). The one place an unsubscribe is written."""
    now = timezone.now()
    fresh = _mark(contacts.filter(unsubscribed_at__isnull=True), now, unsubscribed_at=now)
    publish("contact.unsubscribed", *fresh, version=str(int(now.timestamp())))
    return len(fresh)


def _mark(contacts, now, **values) -> list[Contact]:
    """Set the values on the contacts (and updated_at); return them, as they are now, for the events
    of other systems (test-send contacts left out: they never leave Rebound)."""
    fresh = list(contacts.select_related("account"))
    Contact.objects.filter(pk__in=[c.pk for c in fresh]).update(**values, updated_at=now)
    for contact in fresh:
        for name, value in values.items():
            setattr(contact, name, value)
    return [c for c in fresh if not c.account.is_test]


@mail_event_handler
def contact_mail_event(kind: str, recipient: str, detail: str) -> None:
    """A bounce stops every survey to the contact; a complaint also unsubscribes them."""
    now = timezone.now()
    contacts = Contact.objects.filter(email__iexact=recipient)
    if kind == MailEventKind.BOUNCED:
        fresh = _mark(contacts.filter(bounced_at__isnull=True), now, bounced_at=now, bounce_reason=detail[:2000])
        publish("contact.bounced", *fresh, version=str(int(now.timestamp())))
    elif kind == MailEventKind.COMPLAINED:
        contacts.filter(complained_at__isnull=True).update(complained_at=now, updated_at=now)
        contacts_unsubscribe(contacts)
    elif kind == MailEventKind.UNSUBSCRIBED:
        contacts_unsubscribe(contacts)
