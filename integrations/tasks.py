from celery import shared_task

from . import webhooks


@shared_task(ignore_result=True, acks_late=True)
def deliver_due() -> dict[str, int]:
    """Deliver due webhooks for a while (also every tick, so nothing waits for a lost wake-up)."""
    return webhooks.deliver_due()


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    return webhooks.deliver_due(seconds=20)
