"""Publishing Celery messages without letting a broker outage reach the caller.

The database is the source of truth for every piece of background work (outbox rows, import jobs,
invitations): a broker message only wakes a worker sooner. So a publish that fails — Redis down,
restarting, or slow — is logged and dropped, and the next tick finds the work in the database.
A customer's answer or a staff member's click never turns into an error page because of it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

# A request must not wait on a dead broker: two quick retries, then give up (the tick catches up).
RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.2}


def enqueue(task: Any, *args: Any, **options: Any) -> bool:
    """Publish `task` with `args`; False (and a warning) if the broker cannot take it now."""
    try:
        task.apply_async(args=args, retry=True, retry_policy=RETRY_POLICY, **options)
    except Exception as exc:  # noqa: BLE001 - any broker failure; the work stays in the database
        logger.warning("Could not queue %s (%s: %s); the next tick will pick the work up.", task.name,
                       type(exc).__name__, exc)  # fmt: skip
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **options: Any) -> None:
    """Publish after the current transaction commits (at once outside one); never raises."""
    transaction.on_commit(lambda: enqueue(task, *args, **options), robust=True)
