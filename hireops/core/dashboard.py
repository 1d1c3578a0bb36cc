"""What needs attention, for the admin index: counted for the user's role, each linked to its list."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import admin
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bindings.models import BindingStatus, EcoAccountBinding, FieldPublish, FieldScope, PublishStatus
from hireops.events.models import EventStatus, FeishuEvent
from hireops.jobs.models import BulkJob, JobStatus
from referrals.models import (
    AccountCash,
    AccountStatus,
    ReconciliationRun,
    ReferralAccount,
    RunStatus,
    Withdrawal,
    WithdrawalStatus,
)

CHART_DAYS = 14


@dataclass
class Item:
    label: str
    count: int
    url: str


def _url(model, **filters) -> str:
    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return base + ("?" + "&".join(f"{k}={v}" for k, v in filters.items()) if filters else "")


def _can(user, model) -> bool:
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def attention(request) -> list[Item]:
    user, items = request.user, []
    if _can(user, EcoAccountBinding):
        n = EcoAccountBinding.objects.filter(status=BindingStatus.NEEDS_REVIEW).count()
        items.append(
            Item(_("Bindings needing review"), n, _url(EcoAccountBinding, status__exact="needs_review"))
        )
    if _can(user, FieldScope):
        for state in FieldScope.objects.all():
            if state.has_unpublished_changes:
                label = _("Unpublished custom-field changes: %(scope)s") % {
                    "scope": state.get_scope_display()
                }
                items.append(Item(label, 1, _url(FieldScope)))
    if _can(user, FieldPublish):
        n = FieldPublish.objects.filter(
            status__in=[PublishStatus.QUEUED, PublishStatus.FAILED],
            requested_at__gte=timezone.now() - timedelta(days=7),
        ).count()
        items.append(Item(_("Custom-field publishes failed or waiting (7 days)"), n, _url(FieldPublish)))
    events = admin.site._registry[FeishuEvent]
    if events.has_view_permission(request):
        n = events.get_queryset(request).filter(status=EventStatus.FAILED).count()
        items.append(Item(_("Failed events"), n, _url(FeishuEvent, status__exact="failed")))
    if _can(user, ReferralAccount):
        for status, label in [
            (AccountStatus.FAILED, _("Registrations failed")),
            (AccountStatus.PENDING, _("Registrations waiting for Feishu")),
        ]:
            n = ReferralAccount.objects.filter(status=status).count()
            items.append(Item(label, n, _url(ReferralAccount, status__exact=status)))
        n = ReferralAccount.objects.exclude(pending_action="").count()
        items.append(
            Item(
                _("Enable/deactivate waiting for Feishu"),
                n,
                _url(ReferralAccount, pending_action__gt=""),
            )
        )
    if _can(user, Withdrawal):
        n = Withdrawal.objects.filter(status=WithdrawalStatus.PENDING).count()
        items.append(Item(_("Withdrawals in progress"), n, _url(Withdrawal, status__exact="pending")))
        n = Withdrawal.objects.filter(
            status=WithdrawalStatus.FAILED, requested_at__gte=timezone.now() - timedelta(days=7)
        ).count()
        items.append(Item(_("Withdrawals failed (7 days)"), n, _url(Withdrawal, status__exact="failed")))
    jobs = admin.site._registry[BulkJob]
    if jobs.has_view_permission(request):
        n = jobs.get_queryset(request).exclude(status=JobStatus.DONE).count()
        items.append(Item(_("Background jobs queued or running"), n, _url(BulkJob)))
    return items


def facts(request) -> dict:
    user, out = request.user, {}
    if _can(user, ReferralAccount):
        out["last_pull"] = ReferralAccount.objects.aggregate(at=Max("balance_synced_at"))["at"]
        out["points"] = (
            ReferralAccount.objects.filter(status=AccountStatus.ACTIVE).aggregate(n=Sum("points"))["n"] or 0
        )
        out["cash"] = list(
            AccountCash.objects.filter(account__status=AccountStatus.ACTIVE)
            .values("currency")
            .annotate(total=Sum("amount"))
            .order_by("currency")
        )
    if _can(user, ReconciliationRun):
        out["last_reconciliation"] = ReconciliationRun.objects.filter(status=RunStatus.SUCCEEDED).aggregate(
            at=Max("finished_at")
        )["at"]
    return out


def event_volume(request) -> list[dict]:
    """Events received per day over the last CHART_DAYS days (role-filtered), oldest first."""
    events = admin.site._registry[FeishuEvent]
    if not events.has_view_permission(request):
        return []
    today = timezone.localdate()
    start = today - timedelta(days=CHART_DAYS - 1)
    counts = dict(
        events.get_queryset(request)
        .filter(received_at__date__gte=start)
        .annotate(day=TruncDate("received_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    peak = max(counts.values(), default=0) or 1
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    return [
        {"day": d, "count": counts.get(d, 0), "height": round(100 * counts.get(d, 0) / peak)} for d in days
    ]
