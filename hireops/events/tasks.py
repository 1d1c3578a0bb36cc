from celery import shared_task

from . import services


@shared_task(name="events.process_events", ignore_result=True)
def process_events(pks: list[int]) -> None:
    # Each event in its own transaction: one failing never holds up the others.
    for pk in pks:
        services.event_process(pk)


@shared_task(name="events.process_event", ignore_result=True)
def process_event(pk: int) -> str:
    # Queued one event per message before batching; kept so such messages still run.
    return services.event_process(pk)


@shared_task(name="events.sweep", ignore_result=True)
def sweep() -> int:
    return services.events_sweep()


@shared_task(name="events.prune", ignore_result=True)
def prune() -> int:
    return services.events_prune()
