"""Reads of the HR side worth naming (the dashboard's)."""

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Max, Min, Q, Sum
from django.utils import timezone

from hireops.core.admin.dashboard import one_value
from hireops.core.models import CallStatus

from .models import (
    STALE,
    AccountCash,
    AccountStatus,
    PayoutLine,
    PayoutRun,
    PayoutRunStatus,
    ReconciliationRun,
    ReferralAccount,
    Withdrawal,
)


def accounts_in(status: str):
    return ReferralAccount.objects.filter(status=status)


def status_changes_waiting():
    return ReferralAccount.objects.exclude(pending_action="")


def withdrawals_in(status: str, days: int | None = None):
    qs = Withdrawal.objects.filter(status=status)
    if days is not None:
        qs = qs.filter(requested_at__gte=timezone.now() - timedelta(days=days))
    return qs


def stale_balances():
    """Registered accounts whose balance Feishu has not confirmed for STALE (or ever)."""
    old = Q(balance_synced_at__lt=timezone.now() - STALE) | Q(balance_synced_at__isnull=True)
    return ReferralAccount.objects.filter(old, account_id__isnull=False)


def last_confirmation():
    """The newest balance confirmation (for dashboard.figures' ``values``)."""
    return one_value(ReferralAccount.objects.filter(account_id__isnull=False), Max("balance_synced_at"))


def oldest_confirmation():
    """When the balance that has gone longest without one was last confirmed (account_balance_age_idx)."""
    return one_value(ReferralAccount.objects.filter(account_id__isnull=False), Min("balance_synced_at"))


def last_successful_reconciliation():
    return one_value(ReconciliationRun.objects.filter(status=CallStatus.SUCCEEDED), Max("finished_at"))


HELD_EVERY = 300  # seconds
HELD_TOTALS_KEY = "referrals:held-totals"


def held_totals() -> dict:
    """Points and cash held by active accounts: {"points", "cash": [{"currency", "total"}],
    "as_of"}. A sum over every account (about 250 ms at 200,000 accounts), so it is counted
    at most every HELD_EVERY seconds; the dashboard shows when it was."""
    totals = cache.get(HELD_TOTALS_KEY)
    if totals is None:
        active = ReferralAccount.objects.filter(status=AccountStatus.ACTIVE)
        cash = (
            AccountCash.objects.filter(account__status=AccountStatus.ACTIVE)
            .values("currency")
            .annotate(total=Sum("amount"))
            .order_by("currency")
        )
        totals = {
            "points": active.aggregate(n=Sum("points"))["n"] or 0,
            "cash": list(cash),
            "as_of": timezone.now(),
        }
        cache.set(HELD_TOTALS_KEY, totals, HELD_EVERY)
    return totals


def runs_to_decide(user):
    """Runs waiting for approval that ``user`` may decide: none they caused (payouts.causers)."""
    waiting = PayoutRun.objects.filter(status=PayoutRunStatus.AWAITING_APPROVAL)
    return waiting.exclude(prepared_by=user).exclude(run_now_by=user).exclude(schedule_changed_by=user)


def held_payout_lines():
    """Lines held because Feishu's balance was not the approved one: an approver releases them."""
    return PayoutLine.objects.filter(held=True, status=CallStatus.FAILED)
