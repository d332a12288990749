from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def retag() -> int:
    """Re-tag every response with the current theme taxonomy."""
    return services.responses_retag()


@shared_task(ignore_result=True)
def check_declines() -> int:
    """Raise an alert for each segment whose NPS fell two quarters in a row beyond the margin."""
    return len(services.declines_check())


@shared_task(ignore_result=True)
def refresh_rollups() -> dict[str, int]:
    """Roll up the days sealed since the last run and rebuild the changed ones (insights.rollups)."""
    from . import rollups

    return rollups.refresh()
