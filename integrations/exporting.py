"""The full export as a background job: queued by an Admin, written by a worker, downloaded, expired."""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import connection, connections
from django.db.models import F
from django.utils import timezone

from config import jobs
from config.queueing import enqueue_on_commit

from . import portability
from .models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)
EXPORT_RECOVERY = jobs.Recovery(stale_after=timedelta(minutes=10))


def export_job_create(*, user) -> ExportJob:
    job = ExportJob.objects.create(created_by=user)
    _dispatch(job.pk)
    return job


def _dispatch(job_id: int) -> None:
    from .tasks import run_export

    ExportJob.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    enqueue_on_commit(run_export, job_id)


class _ProgressWriter:
    """Progress and heartbeat, written outside the export's snapshot so the page sees them at once:
    on PostgreSQL through a second connection. (SQLite, the embedded default, lets no other writer
    commit during the snapshot; its exports are small and show their progress when done.)"""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.conn = connections.create_connection("default") if connection.vendor == "postgresql" else None

    def __call__(self, done: int, total: int) -> None:
        if self.conn is None:
            return
        table = ExportJob._meta.db_table
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET processed_rows = %s, total_rows = %s, heartbeat_at = %s WHERE id = %s",  # noqa: S608
                [done, total, timezone.now(), self.job_id],
            )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def export_job_run(job_id: int) -> ExportJob | None:
    """Write one queued export. A job already claimed by another worker is left alone."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, heartbeat_at=now, attempts=F("attempts") + 1, processed_rows=0
    )
    if not claimed:
        return None
    job = ExportJob.objects.get(pk=job_id)
    progress = _ProgressWriter(job_id)
    try:
        with tempfile.TemporaryFile() as handle:
            manifest = portability.write_export(handle, progress=progress)
            handle.seek(0)
            if job.file:
                job.file.delete(save=False)  # an interrupted earlier try
            job.file.save(job.filename, File(handle), save=False)
            job.size = job.file.size
    except Exception as exc:  # noqa: BLE001 - never leave a job "running": say what happened
        logger.exception("Export job %s stopped on an unexpected error", job_id)
        job.status = ExportStatus.FAILED
        job.message = f"The export stopped on an unexpected error ({type(exc).__name__}: {str(exc)[:300]}). Try again."
    else:
        job.status = ExportStatus.DONE
        job.counts = manifest["counts"]
        job.total_rows = job.processed_rows = sum(manifest["counts"].values())
        job.expires_at = timezone.now() + timedelta(days=settings.EXPORT_KEEP_DAYS)
    finally:
        progress.close()
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status", "message", "file", "size", "counts", "total_rows", "processed_rows", "expires_at", "finished_at",
        ]
    )  # fmt: skip
    return job


def exports_recover(now: datetime | None = None) -> dict[str, int]:
    gave_up = f"The export was interrupted {EXPORT_RECOVERY.max_attempts} times (its worker stopped). Start a new one."
    return jobs.recover(ExportJob, _dispatch, policy=EXPORT_RECOVERY, gave_up=gave_up, now=now)


def exports_expire(now: datetime | None = None) -> int:
    """Delete the zips past their keep time: they hold every customer's personal data."""
    now = now or timezone.now()
    expired = list(ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now))
    for job in expired:
        job.file.delete(save=False)
        job.status, job.size = ExportStatus.EXPIRED, 0
        job.save(update_fields=["status", "file", "size"])
    return len(expired)


def tick(now: datetime | None = None) -> dict[str, int]:
    return {**exports_recover(now), "expired": exports_expire(now)}
