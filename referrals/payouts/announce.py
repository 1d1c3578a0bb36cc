"""What the HR side tells partners' webhooks of a payout run, written in the transaction of the
change (``hireops.webhooks.emit``; the types and their data are declared in ``webhook_events``)."""

from hireops.webhooks.events import emit

from .models import PayoutRun


def payout_run(type_name: str, run_pk: int) -> None:
    run = PayoutRun.objects.select_related("prepared_by", "decided_by").filter(pk=run_pk).first()
    if run is not None:
        emit(type_name, run)
