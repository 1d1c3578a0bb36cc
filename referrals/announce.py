"""What the HR side tells partners' webhooks, written in the transaction of the change
(``hireops.webhooks.emit``; the types and their data are declared in ``webhook_events``)."""

from hireops.webhooks.events import emit

from .models import ExternalReferralReward, PayoutRun, ReferralAccount


def _account(type_name: str, account_pk: int) -> None:
    account = ReferralAccount.objects.filter(pk=account_pk).first()
    if account is not None:
        emit(type_name, account, tenant_key=account.tenant_key)


def balance_changed(account_pk: int) -> None:
    _account("referral_account.balance_changed", account_pk)


def deactivated(account_pk: int) -> None:
    _account("referral_account.deactivated", account_pk)


def payout_run(type_name: str, run_pk: int) -> None:
    run = PayoutRun.objects.select_related("prepared_by", "decided_by").filter(pk=run_pk).first()
    if run is not None:
        emit(type_name, run)


def reward_failed(reward_pk: int) -> None:
    reward = ExternalReferralReward.objects.filter(pk=reward_pk).first()
    if reward is not None:
        emit("referral_reward.failed", reward, tenant_key=reward.tenant_key)


def finished_runs(run_pks) -> None:
    """Runs just marked finished (in the caller's transaction)."""
    for pk in run_pks:
        payout_run("payout_run.paid", pk)
