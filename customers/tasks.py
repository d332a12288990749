from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def run_import(job_id: int) -> None:
    services.import_job_run(job_id)


@shared_task(ignore_result=True)
def tick() -> dict[str, int]:
    """Restart imports whose worker died; re-dispatch those whose message was lost."""
    return services.tick()
