from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def password_resets_send() -> int:
    return services.password_resets_send()


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """Reset requests whose message was lost; audit trail and data retention."""
    return services.tick()
