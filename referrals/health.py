"""Withdrawals, reconciliation runs and leavers that need a person (hireops.ops.status)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.ops import status

from .models import AccountStatus, Leaver, LeaverState, ReconciliationRun, Withdrawal


@status.check
def withdrawals():
    yield from status.feishu_calls("referrals.withdrawals", Withdrawal)
    yield from status.feishu_calls("referrals.reconciliation", ReconciliationRun)


# A leaver's account still active this long after its leaver came in (not waiting for a payout
# run) is one left active by accident: a person looks.
LEAVER_GRACE = timedelta(hours=1)


@status.check
def leavers():
    from hireops.core.dashboard import capped_count, changelist_url

    late = timezone.now() - LEAVER_GRACE
    active = Leaver.objects.filter(account__status=AccountStatus.ACTIVE, created_at__lt=late).exclude(
        state=LeaverState.AWAITING_RUN
    )
    n = capped_count(active)
    yield status.Finding(
        "referrals.leavers.active",
        _("Leavers whose referral account is still active after an hour"),
        n,
        n == 0,
        changelist_url(Leaver, account_active="1"),
    )
    waiting = capped_count(Leaver.objects.filter(state=LeaverState.NEEDS_PERSON))
    yield status.Finding(
        "referrals.leavers.needs_person",
        _("Leavers that need a person"),
        waiting,
        waiting == 0,
        changelist_url(Leaver, state__exact=LeaverState.NEEDS_PERSON),
    )
