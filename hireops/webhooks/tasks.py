from celery import shared_task

from hireops import outbound

from . import delivery, retention

deliver = outbound.task(delivery.DELIVER)


@shared_task(name="webhooks.send_due", ignore_result=True)
def send_due() -> int:
    return delivery.send_due()


@shared_task(name="webhooks.prune", ignore_result=True)
def prune() -> int:
    return retention.prune()
