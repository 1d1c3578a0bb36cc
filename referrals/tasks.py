"""Thin tasks: load by primary key, call a service. Outbound tasks come from the engine's
factory (hireops.outbound); retries follow hireops.outbound.retry."""

from celery import shared_task

from hireops import outbound
from hireops.core.schedules import registry as schedules

from . import sync
from .accounts import services as accounts
from .leavers import services as leavers
from .payouts import services as payouts
from .rewards import services as rewards
from .withdrawals import services as withdrawals

register_account = outbound.task(accounts.REGISTER)


withdraw = outbound.task(withdrawals.WITHDRAW)


change_status = outbound.task(accounts.CHANGE)


create_external_reward = outbound.task(rewards.CREATE)


delete_external_reward = outbound.task(rewards.DELETE)


@shared_task(name="referrals.pull_balances", ignore_result=True)
def pull_balances():
    """Every minute (the default schedule): queue the pulls one minute of quota allows."""
    return accounts.pulls_schedule()


@shared_task(name="referrals.pull_balance_batch", ignore_result=True)
def pull_balance_batch(pks: list[int]):
    return accounts.pull_batch(pks)


reconcile = outbound.task(withdrawals.RECONCILE)


# A pull is a read, sent again at will: no row per call (the schedule's claim is on the account).
pull_balance = outbound.retrying_task(
    "referrals.pull_balance", accounts.balance_pull_run, accounts.balance_pull_give_up
)


@shared_task(name="referrals.reconcile_yesterday", ignore_result=True)
def reconcile_yesterday():
    return [run.pk for run in withdrawals.reconciliation_yesterday()]


@shared_task(name="referrals.sync_pending", ignore_result=True)
def sync_pending():
    return sync.sync_pending(pull=False)


pay_line = outbound.task(payouts.PAY_LINE)
pay_line_batch = outbound.batch_task(payouts.PAY_LINE)  # the dispatcher's batches

# A run's news to a person in Feishu (referrals.payouts.chats).
payout_message = outbound.task(payouts.MESSAGE)


@shared_task(name="referrals.payout_dispatch", ignore_result=True)
def payout_dispatch():
    """Every minute, and at once after an approval: queue what each tenant's quota can pay."""
    return payouts.payout_dispatch()


@shared_task(name="referrals.payout_notify", ignore_result=True)
def payout_notify(run_pk: int):
    return payouts.payout_notify(run_pk)


@shared_task(name="referrals.payout_prepare_lines", ignore_result=True)
def payout_prepare_lines(run_pk: int):
    """A large run's lines, batch by batch (referrals.payouts.preparation)."""
    return payouts.payout_prepare_lines(run_pk)


@shared_task(bind=True, name="referrals.payout_prepare_scheduled", ignore_result=True)
def payout_prepare_scheduled(self):
    """The optional monthly run: every account with cash, waiting for approval by someone
    whose hands were not on the schedule ("Run now", its last change)."""
    set_going = schedules.who_set_going(self.request, "referrals.payout_prepare_scheduled")
    return payouts.payout_prepare_scheduled(set_going)


@shared_task(name="referrals.leavers_sweep", ignore_result=True)
def leavers_sweep():
    """Leavers whose deactivation is confirmed are done; one Feishu refused is asked again."""
    return leavers.leavers_sweep()
