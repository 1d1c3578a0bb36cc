from celery import shared_task

from . import services


@shared_task(name="jobs.run", ignore_result=True)
def run_job(pk: int) -> str:
    return services.job_run(pk)


@shared_task(name="jobs.resume", ignore_result=True)
def resume() -> int:
    return services.jobs_resume()
