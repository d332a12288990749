from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def retag() -> int:
    """Re-tag every response with the current theme taxonomy, then rebuild the theme rollups."""
    from . import rollups

    done = services.responses_retag()
    rollups.refresh()
    return done


@shared_task(ignore_result=True)
def check_declines() -> int:
    """Raise an alert for each segment whose NPS fell two quarters in a row beyond the margin."""
    return len(services.declines_check())


@shared_task(ignore_result=True)
def refresh_rollups() -> dict[str, int]:
    """Roll up the days sealed since the last run and rebuild the changed ones (insights.rollups)."""
    from . import rollups

    return rollups.refresh()


@shared_task(ignore_result=True)
def discover(job_id: int) -> None:
    """Run one theme discovery (insights.discovery)."""
    from .discovery import discovery_run

    discovery_run(job_id)


@shared_task(ignore_result=True)
def score_risk(trigger: str = "manual") -> str:
    """Train the detractor-risk model on the history and score every eligible contact."""
    from .risk import train_and_score

    return train_and_score(trigger=trigger).status


@shared_task(ignore_result=True)
def intelligence_tick() -> None:
    """Hourly: restart interrupted discoveries, discover the themes of each wave that closed, and
    score the detractor risk ahead of each relationship wave."""
    from . import discovery, risk

    discovery.discoveries_recover()
    discovery.discoveries_after_waves()
    if risk.due_before_wave():
        risk.train_and_score(trigger="wave")
