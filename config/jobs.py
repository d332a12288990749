"""Background jobs with a row each (imports, exports): a worker that died or a message the broker
lost never leaves one "running" or "queued" for ever.

A job model extends ``Job`` (``attempts``, ``dispatched_at``, ``heartbeat_at`` renewed by the worker
as it makes progress, ``finished_at``) and has its own ``status`` ("queued", "running", "failed" …)
and ``message``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)


class Job(models.Model):
    """What `recover` reads and writes on a job's row."""

    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started, restarts included.")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When a worker was last asked to run it.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The running worker's last sign of life.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Recovery:
    # A running job whose worker has shown no sign of life this long was interrupted (killed worker,
    # lost database connection); it is run again from the start.
    stale_after: timedelta = timedelta(minutes=5)
    # A queued job no worker took this long after it was dispatched: the broker lost the message.
    redispatch_after: timedelta = timedelta(minutes=2)
    max_attempts: int = 3


def recover(
    model: type[models.Model],
    dispatch: Callable[[int], None],
    *,
    policy: Recovery,
    gave_up: str,
    now: datetime | None = None,
) -> dict[str, int]:
    """Restart the model's jobs whose worker died (or fail them with ``gave_up`` after a few
    tries) and re-dispatch those whose message was lost."""
    now = now or timezone.now()
    label = model._meta.verbose_name_plural
    stale = model.objects.filter(status="running", heartbeat_at__lt=now - policy.stale_after)
    failed = stale.filter(attempts__gte=policy.max_attempts).update(status="failed", finished_at=now, message=gave_up)
    requeued = list(stale.filter(attempts__lt=policy.max_attempts).values_list("pk", flat=True))
    model.objects.filter(pk__in=requeued, status="running").update(status="queued")
    lost = list(
        model.objects.filter(status="queued")
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - policy.redispatch_after))
        .exclude(pk__in=requeued)
        .values_list("pk", flat=True)
    )
    for job_id in [*requeued, *lost]:
        dispatch(job_id)
    if requeued or failed:
        logger.warning("%s interrupted: %s restarted, %s failed after %s tries.", label, len(requeued), failed,
                       policy.max_attempts)  # fmt: skip
    return {"requeued": len(requeued), "failed": failed, "redispatched": len(lost)}
