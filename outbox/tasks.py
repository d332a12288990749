from celery import shared_task
from celery.signals import worker_shutting_down

from . import services


@shared_task(ignore_result=True, acks_late=True)
def send_due() -> dict[str, int]:
    """Send what is due in the outbox for a while. Safe to run any number of times at once."""
    return services.emails_send_due()


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """Queue again what dead senders held, and wake senders when anything is due."""
    return services.emails_tick()


@worker_shutting_down.connect
def _stop_sending(**_kwargs) -> None:
    # A warm shutdown: finish the message in hand, put the rest back in the queue, stop.
    services._stopping = True  # noqa: SLF001
