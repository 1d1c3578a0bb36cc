"""Reconciliation: tell Feishu the points we recorded as withdrawn per account in a window,
and keep every mismatch it returns (docs/feishu.md §4)."""

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import get_client, hire
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.tenants.gate import callable_tenants
from hireops.tenants.mode import store_app

from ..accounts.models import ReferralAccount
from .models import ReconciliationMismatch, ReconciliationRun, Withdrawal

# A run Feishu answered with points hireops cannot read or keep: nothing of it is stored.
UNREADABLE_ANSWER = gettext_noop("Feishu's answer has points that cannot be stored (%(what)s).")


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def reconciliation_request(
    start: datetime, end: datetime, user=None, tenant_key: str = ""
) -> ReconciliationRun:
    """One tenant's window ("" for a self-built app's own): Feishu compares that tenant's books."""
    if end <= start:
        raise ValueError("the window must end after it starts")
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            tenant_key=tenant_key, start_ms=to_ms(start), end_ms=to_ms(end), requested_by=user
        )
        RECONCILE.send_on_commit(run.pk)
    return run


def reconciliation_yesterday(user=None) -> list[ReconciliationRun]:
    """The scheduled runs: the previous local calendar day, for each tenant that has referral
    accounts and may be called (a self-built app: its own)."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    tenants = ReferralAccount.objects.values_list("tenant_key", flat=True).distinct().order_by("tenant_key")
    keys = callable_tenants(tenants) or ([] if store_app() else [""])
    return [reconciliation_request(today - timedelta(days=1), today, user, key) for key in keys]


def our_totals(start_ms: int, end_ms: int, tenant_key: str = "") -> list[hire.TradeDetail]:
    """What we withdrew in the window, per account, for one tenant (Feishu compares its own)."""
    rows = (
        Withdrawal.objects.filter(
            status=CallStatus.SUCCEEDED,
            trans_time__gte=start_ms,
            trans_time__lte=end_ms,
            account__tenant_key=tenant_key,
        )
        .values("account__account_id")
        .annotate(points=Sum("withdrawn_points"))
        .order_by("account__account_id")
    )
    return [
        hire.TradeDetail(account_id=r["account__account_id"], recharged_points=r["points"] or 0)  # type: ignore[arg-type]
        for r in rows
    ]


def _prepare(run: ReconciliationRun) -> list[hire.TradeDetail]:
    """The body: our totals as they stand when the run is sent, recorded on it."""
    details = our_totals(run.start_ms, run.end_ms, run.tenant_key)
    sent = [{"account_id": d.account_id, "points": d.recharged_points} for d in details]
    ReconciliationRun.objects.filter(pk=run.pk).update(trade_details=sent)
    return details


# Feishu's mismatches, or what made its answer unreadable (points that are not numbers).
Mismatches = list[hire.ReconciliationMismatch] | hire.BadAmount


def _call(run: ReconciliationRun, details: list[hire.TradeDetail]) -> Mismatches:
    """A comparison without side effect: a retry simply asks again."""
    try:
        return hire.reconcile(
            get_client(),
            start_ms=run.start_ms,
            end_ms=run.end_ms,
            trade_details=details,
            tenant_key=run.tenant_key or None,
        )
    except hire.BadAmount as exc:
        return exc


def _unreadable(what: str) -> dict[str, Any]:
    return {"status": CallStatus.FAILED, "error": Message(UNREADABLE_ANSWER, what=what)}


def _answer(
    run: ReconciliationRun, details: list[hire.TradeDetail], mismatches: Mismatches
) -> dict[str, Any]:
    if isinstance(mismatches, hire.BadAmount):
        return _unreadable(str(mismatches))
    low, high = connection.ops.integer_field_range("BigIntegerField")
    beyond = [m for m in mismatches if not low <= (m.feishu_withdrawn_points or 0) <= high]
    if beyond:
        return _unreadable(f"{beyond[0].feishu_withdrawn_points} ({beyond[0].account_id})")
    return {"mismatch_count": len(mismatches)}


def _effect(run: ReconciliationRun, details: list[hire.TradeDetail], mismatches: Mismatches) -> None:
    if isinstance(mismatches, hire.BadAmount):
        return  # never here: ``_answer`` closed the run failed
    ReconciliationMismatch.objects.bulk_create(
        ReconciliationMismatch(
            run=run,
            account_id=m.account_id,
            feishu_withdrawn_points=m.feishu_withdrawn_points,
            our_points=m.our_recharged_points,
        )
        for m in mismatches
    )


RECONCILE: FeishuKind[ReconciliationRun, list[hire.TradeDetail], Mismatches] = outbound.register(
    outbound.Outbound(
        name="referrals.reconcile",
        model=ReconciliationRun,
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        answer=_answer,
        effect=_effect,
        swept_by=None,  # no sweep: a lost run shows as stuck (ops status) and is asked again
    )
)
