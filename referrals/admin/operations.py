"""Withdrawals and reconciliation runs in the admin."""

import json

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hireops.core import display
from hireops.core.admin import ReadOnlyInline, SystemRecordAdmin
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.display import from_ms
from hireops.core.search import name_search
from hireops.core.spreadsheets.export import choice_label, field_label
from hireops.jobs.admin import run_operation
from hireops.jobs.export_actions import ExportActions
from hireops.tenants.filters import StoreTenantFilter

from .. import bulk
from ..forms import ReconciliationForm
from ..models import ReconciliationMismatch, ReconciliationRun, ReferralAccount, Withdrawal
from ..withdrawals.services import reconciliation_request


class AccountTenantFilter(StoreTenantFilter):
    field = "account__tenant_key"  # a withdrawal's tenant is its account's


@admin.register(Withdrawal)
class WithdrawalAdmin(LargeTableAdmin, ExportActions, SystemRecordAdmin):
    list_display = (
        "external_order_id",
        "account",
        "status",
        "withdrawn_types",
        "withdrawn_points",
        "cash_withdrawn",
        "requested_by",
        "requested_at",
        "error",
    )
    list_filter = ("status", AccountTenantFilter)
    search_fields = ("external_order_id", "account__account_id", "account__name")  # get_search_results
    list_select_related = ("account", "requested_by")

    def get_search_results(self, request, queryset, search_term):
        """An exact order id or Feishu account id, or a part of the employee's name."""
        term = search_term.strip()
        if not term:
            return queryset, False
        named = name_search.contains("account__name", term)
        query = Q(external_order_id=term) | Q(account__account_id=term) | named
        return queryset.filter(query), False

    actions = ["retry_now", "export_csv", "export_xlsx"]
    readonly_fields = (
        "account",
        "external_order_id",
        "status",
        "withdrawn_types",
        "expected_points",
        "expected_cash",
        "withdrawn_points",
        "cash_withdrawn",
        "transaction_time",
        "attempts",
        "error_code",
        "error",
        "log_id",
        "requested_by",
        "requested_at",
        "finished_at",
    )
    fields = readonly_fields

    @admin.display(description=_("withdrawn types"))
    def withdrawn_types(self, obj):
        names = {1: _("points"), 2: _("cash")}
        return ", ".join(str(names.get(t, t)) for t in obj.bonus_types)

    @admin.display(description=_("cash withdrawn"))
    def cash_withdrawn(self, obj):
        return display.cash(obj.withdrawn_cash)

    @admin.display(description=_("Feishu transaction time"))
    def transaction_time(self, obj):
        return from_ms(obj.trans_time)

    export_name = "withdrawals"

    def export_columns(self, request):
        return [
            (field_label(Withdrawal, "external_order_id"), lambda w: w.external_order_id),
            (field_label(Withdrawal, "account"), lambda w: w.account),
            (field_label(ReferralAccount, "account_id"), lambda w: w.account.account_id),
            (field_label(Withdrawal, "status"), choice_label(Withdrawal, "status")),
            (_("withdrawn types"), self.withdrawn_types),
            (field_label(Withdrawal, "withdrawn_points"), lambda w: w.withdrawn_points),
            (_("cash withdrawn"), self.cash_withdrawn),
            (_("Feishu transaction time"), self.transaction_time),
            (field_label(Withdrawal, "requested_by"), lambda w: w.requested_by),
            (field_label(Withdrawal, "requested_at"), lambda w: w.requested_at),
            (field_label(Withdrawal, "error"), lambda w: w.error),
        ]

    def export_queryset(self, queryset):
        return queryset.select_related("account", "requested_by")

    def has_withdraw_permission(self, request):
        # A retry calls Feishu's withdraw: the same permission as withdrawing (not for auditors).
        return request.user.has_perm("referrals.withdraw_referralaccount")

    @admin.action(description=_("Retry now (same order id)"), permissions=["withdraw"])
    def retry_now(self, request, queryset):
        return run_operation(self, request, bulk.retry_withdrawal, queryset)


class MismatchInline(ReadOnlyInline):
    model = ReconciliationMismatch
    fields = readonly_fields = ("account_id", "feishu_withdrawn_points", "our_points")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(LargeTableAdmin, admin.ModelAdmin):
    form = ReconciliationForm
    list_display = ("id", "window", "status", "mismatch_count", "requested_by", "requested_at", "error")
    list_filter = ("status", StoreTenantFilter)
    list_select_related = ("requested_by",)
    inlines = [MismatchInline]
    readonly_fields = (
        "window",
        "status",
        "mismatch_count",
        "sent",
        "error_code",
        "error",
        "log_id",
        "requested_by",
        "requested_at",
        "finished_at",
    )

    @admin.display(description=_("window"))
    def window(self, obj):
        return f"{from_ms(obj.start_ms)} → {from_ms(obj.end_ms)}"

    @admin.display(description=_("our totals sent"))
    def sent(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.trade_details, ensure_ascii=False, indent=1))

    def get_fields(self, request, obj=None):
        return ("tenant_key", "start", "end") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        start, end = form.window()
        run = reconciliation_request(start, end, request.user, form.cleaned_data.get("tenant_key") or "")
        obj.pk = run.pk
        obj.refresh_from_db()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
