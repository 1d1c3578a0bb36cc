from celery import shared_task

from hireops.core.retry import run_retrying

from . import publishing


@shared_task(bind=True, name="bindings.publish_fields", ignore_result=True)
def publish_fields(self, publish_pk: int) -> str:
    return run_retrying(self, publishing.field_publish_run, publish_pk, publishing.field_publish_give_up)
