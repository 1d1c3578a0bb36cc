"""Thin tasks: load by primary key, call a service. Outbound calls are sent by the engine
(hireops.outbound): each kind's task comes from its factory."""

from celery import shared_task

from hireops import outbound

from . import writes
from .catalogue import pushes

send_write = outbound.task(writes.SEND)


@shared_task(name="orders.resume_writes", ignore_result=True)
def resume_writes() -> int:
    """Every minute (the default schedule): writes whose task was lost are sent again."""
    return writes.writes_resume()


push_catalogue = outbound.task(pushes.PUSH)


@shared_task(name="orders.run_rollout", ignore_result=True)
def run_rollout(pk: int) -> str:
    from .catalogue import rollouts

    return rollouts.rollout_run(pk)


@shared_task(name="orders.resume_catalogues", ignore_result=True)
def resume_catalogues() -> int:
    """Every minute (the default schedule): pushes and rollouts whose task was lost go on."""
    from .catalogue import rollouts

    return pushes.pushes_resume() + rollouts.rollouts_resume()


@shared_task(name="orders.purge_personal_data", ignore_result=True)
def purge_personal_data() -> int:
    """Daily (the default schedule): candidates' data of orders that ended long ago."""
    from .purge import purge_due

    return purge_due()
