"""Payout runs and leavers that need a person (hireops.ops.status). The calls to Feishu
(withdrawals, payout lines, …) are watched by the platform, from the outbound registry."""

from datetime import timedelta

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hireops.ops import status

from .models import (
    AccountStatus,
    Leaver,
    LeaverState,
    PayoutRun,
    PayoutRunStatus,
)

NO_PROGRESS = timedelta(minutes=15)  # a paying run pays a line every 0.6 s per tenant
WAITING_LONG = timedelta(days=7)
PREPARATION_STALLED = timedelta(minutes=10)


@status.check
def payout_runs():
    from hireops.core.admin.dashboard import capped_count, changelist_url

    now = timezone.now()
    paying = PayoutRun.objects.filter(status=PayoutRunStatus.PAYING, decided_at__lt=now - NO_PROGRESS)
    last_closed = paying.annotate(last=Max("lines__finished_at")).filter(
        Q(last__isnull=True) | Q(last__lt=now - NO_PROGRESS)
    )
    stalled = capped_count(last_closed)
    yield status.Finding(
        "referrals.payout_runs.stalled",
        _("Payout runs: approved, but no line paid for 15 minutes"),
        stalled,
        stalled == 0,
        changelist_url(PayoutRun, status__exact=PayoutRunStatus.PAYING),
    )
    # A run being prepared moves every few seconds; the dispatcher's tick takes up a stopped
    # one after 2 minutes. Still no batch after 10: no worker consumes the bulk queue, or beat
    # is down.
    preparing = PayoutRun.objects.filter(
        status=PayoutRunStatus.PREPARING, heartbeat_at__lt=now - PREPARATION_STALLED
    )
    stopped = capped_count(preparing)
    yield status.Finding(
        "referrals.payout_runs.preparation_stalled",
        _("Payout runs being prepared with no progress for 10 minutes"),
        stopped,
        stopped == 0,
        changelist_url(PayoutRun, status__exact=PayoutRunStatus.PREPARING),
    )
    waiting = PayoutRun.objects.filter(status=PayoutRunStatus.AWAITING_APPROVAL)
    untold = capped_count(waiting.exclude(notice_error=""))
    yield status.Finding(
        "referrals.payout_runs.untold",
        _("Payout runs waiting for approval whose approvers were not all told"),
        untold,
        untold == 0,
        changelist_url(PayoutRun, status__exact=PayoutRunStatus.AWAITING_APPROVAL),
    )
    old = capped_count(waiting.filter(prepared_at__lt=now - WAITING_LONG))
    yield status.Finding(
        "referrals.payout_runs.waiting",
        format_lazy(_("Payout runs waiting for approval for over {days} days"), days=WAITING_LONG.days),
        old,
        old == 0,
        changelist_url(PayoutRun, status__exact=PayoutRunStatus.AWAITING_APPROVAL),
    )


# A leaver's account still active this long after its leaver came in (not waiting for a payout
# run) is one left active by accident: a person looks.
LEAVER_GRACE = timedelta(hours=1)


@status.check
def leavers():
    from hireops.core.admin.dashboard import capped_count, changelist_url

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
