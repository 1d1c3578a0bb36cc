from celery import shared_task

from . import counting, idempotency


@shared_task(name="api.forget_idempotency_keys", ignore_result=True, soft_time_limit=240, time_limit=300)
def forget_idempotency_keys() -> int:
    return idempotency.forget_old()


@shared_task(name="api.flush_request_counts", ignore_result=True, soft_time_limit=50, time_limit=60)
def flush_request_counts() -> int:
    return counting.flush()


@shared_task(name="api.prune_request_counts", ignore_result=True)
def prune_request_counts() -> int:
    return counting.prune()
