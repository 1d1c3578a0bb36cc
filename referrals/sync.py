"""One pass over every outbound job still waiting, run in-process (cron users, the periodic sweep)."""

from hireops.core.retry import TryLater

from . import balances, registration, status, withdrawals
from .models import AccountStatus, ReferralAccount, Withdrawal, WithdrawalStatus


def _each(pks, func) -> tuple[int, int]:
    done = later = 0
    for pk in pks:
        try:
            func(pk)
            done += 1
        except TryLater:
            later += 1
    return done, later


def sync_pending(pull: bool = True) -> dict:
    report = {
        "registrations": _each(
            ReferralAccount.objects.filter(status=AccountStatus.PENDING).values_list("pk", flat=True),
            registration.registration_run,
        ),
        "withdrawals": _each(
            Withdrawal.objects.filter(status=WithdrawalStatus.PENDING).values_list("pk", flat=True),
            withdrawals.withdrawal_run,
        ),
        "status_changes": _each(
            ReferralAccount.objects.exclude(pending_action="").values_list("pk", flat=True),
            status.status_change_run,
        ),
    }
    if pull:
        report["balances"] = balances.balances_pull_all()
    return report
