from celery import shared_task

from . import exports, services


@shared_task(name="jobs.run", ignore_result=True)
def run_job(pk: int) -> str:
    return services.job_run(pk)


@shared_task(name="jobs.resume", ignore_result=True)
def resume() -> int:
    return services.jobs_resume() + exports.exports_resume()


# An export of millions of rows takes minutes in one pass (a workbook cannot be written in
# slices): its own limits, well past the default's 300 s. A run killed by them is resumed.
@shared_task(name="jobs.export", ignore_result=True, soft_time_limit=3600, time_limit=3660)
def run_export(pk: int) -> str:
    return exports.export_run(pk)


@shared_task(name="jobs.expire_exports", ignore_result=True)
def expire_exports() -> int:
    return exports.exports_expire()
