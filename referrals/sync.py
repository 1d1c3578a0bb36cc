"""One pass over every outbound job still waiting, run in-process (cron users, the periodic sweep).

Only jobs waiting longer than ``grace`` are taken: a job queued a moment ago is most likely
still in the broker, and running it here too would call Feishu twice (harmless for a
withdrawal, which carries its idempotency key, but a second registration call is not
known to be deduplicated by Feishu).
"""

from datetime import timedelta

from django.utils import timezone

from hireops.core.models import CallStatus
from hireops.core.retry import TryLater

from . import balances, registration, status, withdrawals
from .models import AccountStatus, ReferralAccount, Withdrawal


def _each(pks, func) -> tuple[int, int]:
    done = later = 0
    for pk in pks:
        try:
            func(pk)
            done += 1
        except TryLater:
            later += 1
    return done, later


GRACE = timedelta(minutes=2)


def sync_pending(pull: bool = True, grace: timedelta = GRACE) -> dict:
    cutoff = timezone.now() - grace
    accounts = ReferralAccount.objects.filter(updated_at__lte=cutoff)
    report = {
        "registrations": _each(
            accounts.filter(status=AccountStatus.PENDING).values_list("pk", flat=True),
            registration.registration_run,
        ),
        "withdrawals": _each(
            Withdrawal.objects.filter(status=CallStatus.QUEUED, requested_at__lte=cutoff).values_list(
                "pk", flat=True
            ),
            withdrawals.withdrawal_run,
        ),
        "status_changes": _each(
            accounts.exclude(pending_action="").values_list("pk", flat=True),
            status.status_change_run,
        ),
    }
    if pull:
        report["balances"] = balances.balances_pull_all()
    return report
