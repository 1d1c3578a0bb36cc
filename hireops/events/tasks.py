from celery import shared_task

from . import services


@shared_task(name="events.process_event", ignore_result=True)
def process_event(pk: int) -> str:
    return services.event_process(pk)


@shared_task(name="events.sweep", ignore_result=True)
def sweep() -> int:
    return services.events_sweep()


@shared_task(name="events.prune", ignore_result=True)
def prune() -> int:
    return services.events_prune()
