from celery import shared_task

from .services import emails_send


@shared_task(ignore_result=True, acks_late=True)
def send_emails(ids: list[int]) -> None:
    """Send a batch of outgoing email rows over one connection. Safe to run twice."""
    emails_send(ids)
