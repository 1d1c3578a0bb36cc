"""Thin tasks: load by primary key, call a service. Outbound tasks come from the engine's
factory (hireops.core.outbound); retries follow hireops.core.retry."""

from celery import shared_task

from hireops.core import outbound

from . import balances, leavers, pulls, reconciliation, registration, status, sync, withdrawals

register_account = outbound.task(registration.REGISTER)


withdraw = outbound.task(withdrawals.WITHDRAW)


change_status = outbound.task(status.CHANGE)


@shared_task(name="referrals.pull_balances", ignore_result=True)
def pull_balances():
    """Every minute (the default schedule): queue the pulls one minute of quota allows."""
    return pulls.pulls_schedule()


@shared_task(name="referrals.pull_balance_batch", ignore_result=True)
def pull_balance_batch(pks: list[int]):
    return pulls.pull_batch(pks)


reconcile = outbound.task(reconciliation.RECONCILE)


# A pull is a read, sent again at will: no row per call (the schedule's claim is on the account).
pull_balance = outbound.retrying_task(
    "referrals.pull_balance", balances.balance_pull_run, balances.balance_pull_give_up
)


@shared_task(name="referrals.reconcile_yesterday", ignore_result=True)
def reconcile_yesterday():
    return [run.pk for run in reconciliation.reconciliation_yesterday()]


@shared_task(name="referrals.sync_pending", ignore_result=True)
def sync_pending():
    return sync.sync_pending(pull=False)


@shared_task(name="referrals.leavers_sweep", ignore_result=True)
def leavers_sweep():
    """Leavers whose deactivation is confirmed are done; one Feishu refused is asked again."""
    return leavers.leavers_sweep()
