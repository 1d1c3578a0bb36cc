"""Withdrawals and reconciliation runs that need a person (hireops.ops.status)."""

from hireops.ops import status

from .models import ReconciliationRun, Withdrawal


@status.check
def withdrawals():
    yield from status.feishu_calls("referrals.withdrawals", Withdrawal)
    yield from status.feishu_calls("referrals.reconciliation", ReconciliationRun)
