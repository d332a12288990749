from celery import shared_task

from .services import import_job_run


@shared_task(ignore_result=True)
def run_import(job_id: int) -> None:
    import_job_run(job_id)
