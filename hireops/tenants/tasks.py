from celery import shared_task

from hireops.core.retry import run_retrying

from . import naming


@shared_task(bind=True, name="tenants.lookup_name", ignore_result=True)
def lookup_name(self, lookup_pk: int) -> str:
    return run_retrying(self, naming.lookup_run, lookup_pk, naming.lookup_give_up)
