"""Thin tasks: load by primary key, call a service. Retries follow hireops.core.retry."""

from celery import shared_task

from hireops.core.retry import run_retrying

from . import writes


@shared_task(bind=True, name="orders.send_write", ignore_result=True)
def send_write(self, pk: int) -> str:
    return run_retrying(self, writes.write_run, pk, writes.write_give_up)


@shared_task(name="orders.resume_writes", ignore_result=True)
def resume_writes() -> int:
    """Every minute (the default schedule): writes whose task was lost are sent again."""
    return writes.writes_resume()
