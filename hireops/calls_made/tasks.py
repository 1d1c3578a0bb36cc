from celery import shared_task

from . import record


@shared_task(name="calls_made.prune", ignore_result=True)
def prune() -> int:
    return record.prune()
