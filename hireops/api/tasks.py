from celery import shared_task

from . import idempotency


@shared_task(name="api.forget_idempotency_keys", ignore_result=True, soft_time_limit=240, time_limit=300)
def forget_idempotency_keys() -> int:
    return idempotency.forget_old()
