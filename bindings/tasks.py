from celery import shared_task

from . import publishing


@shared_task(name="bindings.publish_fields", ignore_result=True)
def publish_fields(publish_pk: int) -> str:
    return publishing.field_publish_run(publish_pk)
