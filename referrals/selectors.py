"""Reads of the HR side worth naming (the dashboard's)."""

from datetime import timedelta

from django.db.models import Max, Min, Q, Sum
from django.utils import timezone

from hireops.core.models import CallStatus

from .models import STALE, AccountCash, AccountStatus, ReconciliationRun, ReferralAccount, Withdrawal


def accounts_in(status: str) -> int:
    return ReferralAccount.objects.filter(status=status).count()


def status_changes_waiting() -> int:
    return ReferralAccount.objects.exclude(pending_action="").count()


def withdrawals_in(status: str, days: int | None = None) -> int:
    qs = Withdrawal.objects.filter(status=status)
    if days is not None:
        qs = qs.filter(requested_at__gte=timezone.now() - timedelta(days=days))
    return qs.count()


def last_balance_update():
    return ReferralAccount.objects.aggregate(at=Max("balance_synced_at"))["at"]


def oldest_confirmed_balance():
    """When Feishu last confirmed the balance that has gone longest without it."""
    accounts = ReferralAccount.objects.filter(account_id__isnull=False, balance_synced_at__isnull=False)
    return accounts.aggregate(at=Min("balance_synced_at"))["at"]


def stale_balances() -> int:
    """Registered accounts whose balance Feishu has not confirmed for STALE (or ever)."""
    old = Q(balance_synced_at__lt=timezone.now() - STALE) | Q(balance_synced_at__isnull=True)
    return ReferralAccount.objects.filter(old, account_id__isnull=False).count()


def points_held() -> int:
    return ReferralAccount.objects.filter(status=AccountStatus.ACTIVE).aggregate(n=Sum("points"))["n"] or 0


def cash_held() -> list[dict]:
    """[{"currency": "CNY", "total": Decimal}] held by active accounts, by currency."""
    return list(
        AccountCash.objects.filter(account__status=AccountStatus.ACTIVE)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )


def last_successful_reconciliation():
    return ReconciliationRun.objects.filter(status=CallStatus.SUCCEEDED).aggregate(at=Max("finished_at"))[
        "at"
    ]
