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


@shared_task(bind=True, name="orders.push_catalogue", ignore_result=True)
def push_catalogue(self, pk: int) -> str:
    from .catalogue import pushes

    return run_retrying(self, pushes.push_run, pk, pushes.push_give_up)


@shared_task(name="orders.run_rollout", ignore_result=True)
def run_rollout(pk: int) -> str:
    from .catalogue import rollouts

    return rollouts.rollout_run(pk)


@shared_task(name="orders.resume_catalogues", ignore_result=True)
def resume_catalogues() -> int:
    """Every minute (the default schedule): pushes and rollouts whose task was lost go on."""
    from .catalogue import pushes, rollouts

    return pushes.pushes_resume() + rollouts.rollouts_resume()


@shared_task(name="orders.purge_personal_data", ignore_result=True)
def purge_personal_data() -> int:
    """Daily (the default schedule): candidates' data of orders that ended long ago."""
    from .purge import purge_due

    return purge_due()
