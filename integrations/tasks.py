from celery import shared_task

from . import exporting, webhooks


@shared_task(ignore_result=True, acks_late=True)
def deliver_due() -> dict[str, int]:
    """Deliver due webhooks for a while (also every tick, so nothing waits for a lost wake-up)."""
    return webhooks.deliver_due()


@shared_task(ignore_result=True)
def run_export(job_id: int) -> None:
    exporting.export_job_run(job_id)


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """Deliver due webhooks; restart exports whose worker died, delete expired ones."""
    return {**webhooks.deliver_due(seconds=20), **exporting.tick()}
