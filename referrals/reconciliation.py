"""Reconciliation: tell Feishu the points we recorded as withdrawn per account in a window,
and keep every mismatch it returns (feishu-api.md §4)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from hireops.feishu import FeishuError, get_client, hire

from .models import ReconciliationMismatch, ReconciliationRun, RunStatus, Withdrawal, WithdrawalStatus


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def reconciliation_request(start: datetime, end: datetime, user=None) -> ReconciliationRun:
    from .tasks import reconcile

    if end <= start:
        raise ValueError("the window must end after it starts")
    with transaction.atomic():
        run = ReconciliationRun.objects.create(start_ms=to_ms(start), end_ms=to_ms(end), requested_by=user)
        transaction.on_commit(lambda: reconcile.delay(run.pk))
    return run


def reconciliation_yesterday(user=None) -> ReconciliationRun:
    """The scheduled run: the previous local calendar day."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return reconciliation_request(today - timedelta(days=1), today, user)


def our_totals(start_ms: int, end_ms: int) -> list[hire.TradeDetail]:
    rows = (
        Withdrawal.objects.filter(
            status=WithdrawalStatus.SUCCEEDED, trans_time__gte=start_ms, trans_time__lte=end_ms
        )
        .values("account__account_id")
        .annotate(points=Sum("withdrawn_points"))
        .order_by("account__account_id")
    )
    return [
        hire.TradeDetail(account_id=r["account__account_id"], recharged_points=r["points"] or 0) for r in rows
    ]


def reconciliation_run(pk: int) -> str:
    run = ReconciliationRun.objects.get(pk=pk)
    if run.status != RunStatus.QUEUED:
        return run.status
    details = our_totals(run.start_ms, run.end_ms)
    sent = [{"account_id": d.account_id, "points": d.recharged_points} for d in details]
    try:
        mismatches = hire.reconcile(
            get_client(), start_ms=run.start_ms, end_ms=run.end_ms, trade_details=details
        )
    except FeishuError as exc:
        ReconciliationRun.objects.filter(pk=pk).update(
            status=RunStatus.FAILED,
            trade_details=sent,
            error=str(exc)[:500],
            error_code=exc.code,
            log_id=exc.log_id or "",
            finished_at=timezone.now(),
        )
        return RunStatus.FAILED
    with transaction.atomic():
        ReconciliationMismatch.objects.bulk_create(
            ReconciliationMismatch(
                run=run,
                account_id=m.account_id,
                feishu_withdrawn_points=m.feishu_withdrawn_points,
                our_points=m.our_recharged_points,
            )
            for m in mismatches
        )
        ReconciliationRun.objects.filter(pk=pk).update(
            status=RunStatus.SUCCEEDED,
            trade_details=sent,
            mismatch_count=len(mismatches),
            finished_at=timezone.now(),
        )
    return RunStatus.SUCCEEDED
