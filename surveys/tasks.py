from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """The scheduler's beat: look in the database for what is due and dispatch it."""
    return services.tick()
