from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """Escalate breached SLAs once and send the daily digests that are due."""
    return services.tick()
