from celery import shared_task

from . import answers, services


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """The scheduler's beat: look in the database for what is due and dispatch it."""
    return services.tick()


@shared_task(ignore_result=True)
def route_responses() -> int:
    """Run the consumers (follow-ups, theme tags) of the answers committed since the last run."""
    return answers.responses_route_pending()
