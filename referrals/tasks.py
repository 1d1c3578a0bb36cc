"""Thin tasks: load by primary key, call a service. Retries follow hireops.core.retry."""

from celery import shared_task

from hireops.core import outbound
from hireops.core.retry import run_retrying

from . import balances, pulls, reconciliation, registration, status, sync, withdrawals


@shared_task(bind=True, name="referrals.register_account", ignore_result=True)
def register_account(self, pk: int):
    return run_retrying(self, registration.registration_run, pk, registration.registration_give_up)


withdraw = outbound.task(withdrawals.WITHDRAW)


@shared_task(bind=True, name="referrals.change_status", ignore_result=True)
def change_status(self, pk: int):
    return run_retrying(self, status.status_change_run, pk, status.status_change_give_up)


@shared_task(name="referrals.pull_balances", ignore_result=True)
def pull_balances():
    """Every minute (the default schedule): queue the pulls one minute of quota allows."""
    return pulls.pulls_schedule()


@shared_task(name="referrals.pull_balance_batch", ignore_result=True)
def pull_balance_batch(pks: list[int]):
    return pulls.pull_batch(pks)


reconcile = outbound.task(reconciliation.RECONCILE)


@shared_task(bind=True, name="referrals.pull_balance", ignore_result=True)
def pull_balance(self, pk: int):
    return run_retrying(self, balances.balance_pull_run, pk, balances.balance_pull_give_up)


@shared_task(name="referrals.reconcile_yesterday", ignore_result=True)
def reconcile_yesterday():
    return [run.pk for run in reconciliation.reconciliation_yesterday()]


@shared_task(name="referrals.sync_pending", ignore_result=True)
def sync_pending():
    return sync.sync_pending(pull=False)
