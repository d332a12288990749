"""Writes for customers: the import job lifecycle."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .importing import FileRefused, import_customers
from .models import ImportJob, ImportStatus


def import_job_create(*, kind: str, upload: UploadedFile, user) -> ImportJob:
    """Store an uploaded CSV and queue its import once the row is committed."""
    from .tasks import run_import

    job = ImportJob.objects.create(kind=kind, file=upload, filename=upload.name[:255], created_by=user)
    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def import_job_run(job_id: int) -> ImportJob | None:
    """Run one queued import. A job already claimed by another worker is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(status=ImportStatus.RUNNING)
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        result = import_customers(kind=job.kind, data=data, progress=progress)
    except FileRefused as exc:
        job.status, job.message = ImportStatus.FAILED, str(exc)
    else:
        job.status = ImportStatus.DONE
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
