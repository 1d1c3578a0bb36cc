"""Referral accounts as HR works with them."""

from collections import defaultdict
from datetime import timedelta
from functools import reduce
from operator import or_

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hireops.core import display
from hireops.core.admin import ChangedThroughActions, ReadOnlyInline, action_page
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.display import from_ms
from hireops.core.privacy import personal
from hireops.core.search import name_search
from hireops.core.spreadsheets.export import choice_label, field_label
from hireops.jobs.admin import CsvImportAdmin, run_operation
from hireops.jobs.export_actions import ExportActions
from hireops.tenants.filters import StoreTenantFilter

from .. import bulk
from ..accounts.services import AlreadyRegistered, account_register
from ..forms import AccountAddForm, WithdrawForm
from ..models import (
    STALE,
    AccountCash,
    AccountRegistration,
    AccountStatus,
    AccountStatusChange,
    BalanceChange,
    ReferralAccount,
    StatusAction,
    Withdrawal,
)


class CashInline(ReadOnlyInline):
    model = AccountCash
    fields = readonly_fields = ("currency", "amount")


class HistoryInline(ReadOnlyInline):
    model = BalanceChange
    fields = readonly_fields = ("at", "source", "as_of", "points", "cash_amounts", "reference")

    @admin.display(description=_("cash"))
    def cash_amounts(self, obj):
        return display.cash(obj.cash)

    @admin.display(description=_("as of"))
    def as_of(self, obj):
        return from_ms(obj.modify_time)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-at", "-id")


class WithdrawalInline(ReadOnlyInline):
    model = Withdrawal
    fields = readonly_fields = ("requested_at", "status", "withdrawn_points", "cash_withdrawn", "error")
    show_change_link = True

    @admin.display(description=_("cash withdrawn"))
    def cash_withdrawn(self, obj):
        return display.cash(obj.withdrawn_cash)


class CallInline(ReadOnlyInline):
    """The account's calls to Feishu of one kind, newest first: where each stands, Feishu's last
    answer and its log id (for Feishu's support)."""

    fields = readonly_fields = ("requested_at", "requested_by", "status", "attempts", "error", "log_id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by").order_by("-requested_at", "-id")


class RegistrationInline(CallInline):
    model = AccountRegistration


class StatusChangeInline(CallInline):
    model = AccountStatusChange
    fields = readonly_fields = (  # type: ignore[assignment]  # more fields than its base
        "requested_at",
        "requested_by",
        "action",
        "status",
        "attempts",
        "error",
        "log_id",
    )


class BalanceAgeFilter(admin.SimpleListFilter):
    """How long ago Feishu last confirmed the balance (a pull, an event, a withdrawal)."""

    title = _("balance confirmed")
    parameter_name = "balance_age"

    def lookups(self, request, model_admin):
        return [
            ("hour", _("in the last hour")),
            ("day", _("in the last 24 hours")),
            ("stale", _("more than 24 hours ago, or never")),
            ("never", _("never")),
        ]

    def queryset(self, request, queryset):
        now, value = timezone.now(), self.value()
        if value == "hour":
            return queryset.filter(balance_synced_at__gte=now - timedelta(hours=1))
        if value == "day":
            return queryset.filter(balance_synced_at__gte=now - STALE)
        if value == "stale":
            old = Q(balance_synced_at__lt=now - STALE) | Q(balance_synced_at__isnull=True)
            return queryset.filter(old, account_id__isnull=False)
        if value == "never":
            return queryset.filter(account_id__isnull=False, balance_synced_at__isnull=True)
        return queryset


@admin.register(ReferralAccount)
class ReferralAccountAdmin(
    LargeTableAdmin, ChangedThroughActions, ExportActions, CsvImportAdmin, admin.ModelAdmin
):
    # Nothing on a registered account is edited by hand: changes go through the actions.
    # Fits a 1366 px screen; the full texts are in the tooltips and on the account's page.
    # The mobile and email are shown masked or in full by the admin's personal-data guard.
    list_display = (
        "__str__",
        "mobile_number",
        "email",
        "state",
        "points",
        "cash_display",
        "balance_age",
        "problem",
    )
    list_filter = ("status", "pending_action", BalanceAgeFilter, StoreTenantFilter)
    search_fields = ("name", "email", "mobile_number", "account_id")  # see get_search_results
    actions = [
        "prepare_payout_run",
        "withdraw",
        "enable",
        "deactivate",
        "retry_registration",
        "pull_balance",
        "export_csv",
        "export_xlsx",
    ]
    csv_import, csv_import_url_name = bulk.import_accounts, "referrals_import"
    inlines = [CashInline, WithdrawalInline, HistoryInline, RegistrationInline, StatusChangeInline]
    readonly_fields = (
        "name",
        "mobile_number",
        "email",
        "account_id",
        "status",
        "error",
        "attempts",
        "pending_action",
        "action_error",
        "points",
        "balance_as_of",
        "balance_synced_at",
        "balance_error",
        "created_by",
        "created_at",
        "consequences",
    )

    def get_search_results(self, request, queryset, search_term):
        """A part of the name, or an exact email (any case), mobile number or Feishu account
        id: each through its own index (trigram and bigram indexes for names on PostgreSQL:
        ``name_search``). The email and mobile only for users who may see them
        (``get_search_fields``)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        how = {
            "name": name_search.contains("name", term),
            "email": Q(email__iexact=term),
            "mobile_number": Q(mobile_number=term),
            "account_id": Q(account_id=term),
        }
        searched = self.get_search_fields(request)
        return queryset.filter(reduce(or_, (q for name, q in how.items() if name in searched))), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AccountAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return AccountAddForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        # Validation already ran in the form.
        created = account_register(form.person, request.user, form.cleaned_data.get("tenant_key") or "")
        obj.pk = created.pk
        obj.refresh_from_db()

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except AlreadyRegistered as exc:
            self.message_user(request, str(exc), messages.ERROR)
            if not personal.can_see_personal_data(request.user):  # whose it is stays unsaid
                return HttpResponseRedirect(request.get_full_path())
            return HttpResponseRedirect(
                reverse("admin:referrals_referralaccount_change", args=[exc.account.pk])
            )

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj):
        if obj.pending_action:
            change = StatusAction(obj.pending_action).label
            return _("%(status)s (%(change)s pending)") % {
                "status": obj.get_status_display(),
                "change": change,
            }
        return obj.get_status_display()

    @admin.display(description=_("balance confirmed"), ordering="balance_synced_at")
    def balance_age(self, obj):
        if obj.balance_synced_at is None:
            return "—"
        ago, exact = display.ago(obj.balance_synced_at), display.local_time(obj.balance_synced_at)
        if timezone.now() - obj.balance_synced_at > STALE:
            return format_html('<span class="warning" title="{}">⚠ {}</span>', exact, ago)
        return format_html('<span title="{}">{}</span>', exact, ago)

    @admin.display(description=_("problem"))
    def problem(self, obj):
        return display.short(obj.error or obj.action_error or obj.balance_error, 30)

    @admin.display(description=_("balance as of (Feishu time)"))
    def balance_as_of(self, obj):
        return from_ms(obj.assets_modify_time)

    @admin.display(description=_("cash"))
    def cash_display(self, obj):
        return ", ".join(f"{c.amount} {c.currency}" for c in obj.cash.all()) or "—"

    @admin.display(description=_("what this status means"))
    def consequences(self, obj):
        if obj.status == AccountStatus.DEACTIVATED:
            return _(
                "Deactivated: Feishu sends no balance updates and refuses withdrawals until it is enabled."
            )
        if obj.status == AccountStatus.FAILED:
            return _("Not registered. Fix the cause shown, then use “Retry registration”.")
        if obj.status == AccountStatus.PENDING:
            return _("Being registered with Feishu.")
        return _("Active: balances follow Feishu; the balance can be withdrawn.")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cash")

    def has_delete_permission(self, request, obj=None):
        # Only a row Feishu never accepted may go (e.g. a typo); a registered account stays.
        if obj is not None and obj.account_id:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset.filter(account_id__isnull=True))

    def get_deleted_objects(self, objs, request):
        """A failed account's own calls (its registration attempts, status changes) go with it:
        they are records nobody deletes on their own, so the account's deletion is what they
        need, not a delete permission of their own list's."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        own = {str(model._meta.verbose_name) for model in (AccountRegistration, AccountStatusChange)}
        return deleted, counts, {p for p in perms_needed if str(p) not in own}, protected

    def has_withdraw_permission(self, request):
        return request.user.has_perm("referrals.withdraw_referralaccount")

    @admin.action(description=_("Withdraw full balance…"), permissions=["withdraw"])
    def withdraw(self, request, queryset):
        if not self.has_withdraw_permission(request):
            raise PermissionDenied
        form = WithdrawForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            params = {"bonus_types": form.bonus_types}
            return run_operation(self, request, bulk.withdraw, queryset, params)
        return action_page(
            self,
            request,
            "admin/referrals/withdraw_confirm.html",
            _("Withdraw full balance"),
            form,
            accounts=queryset.prefetch_related("cash"),
        )

    def has_prepare_payout_permission(self, request):
        return request.user.has_perm("referrals.add_payoutrun")

    @admin.action(description=_("Prepare a payout run with these accounts…"), permissions=["prepare_payout"])
    def prepare_payout_run(self, request, queryset):
        """The chosen rows (or every row the filters match, with "select all"): shown with the
        amounts first; preparing moves nothing, a colleague approves the run."""
        from .payouts import prepare_from_accounts

        return prepare_from_accounts(self, request, queryset)

    @admin.action(description=_("Enable"), permissions=["change"])
    def enable(self, request, queryset):
        return run_operation(self, request, bulk.enable, queryset)

    @admin.action(description=_("Deactivate (no balance updates, no withdrawals)"), permissions=["change"])
    def deactivate(self, request, queryset):
        return run_operation(self, request, bulk.deactivate, queryset)

    @admin.action(description=_("Retry registration"), permissions=["change"])
    def retry_registration(self, request, queryset):
        return run_operation(self, request, bulk.retry_registration, queryset)

    @admin.action(description=_("Pull balance from Feishu now"), permissions=["change"])
    def pull_balance(self, request, queryset):
        return run_operation(self, request, bulk.pull_balance, queryset)

    export_name = "referral-accounts"

    def export_columns(self, request):
        full = personal.can_see_personal_data(request.user)  # decided once for all the rows
        return [
            (field_label(ReferralAccount, "name"), lambda a: a.name),
            *(
                (
                    field_label(ReferralAccount, name),
                    lambda a, name=name: personal.shown(None, a, name, full=full),
                )
                for name in ("mobile_number", "email")
            ),
            (field_label(ReferralAccount, "account_id"), lambda a: a.account_id),
            (field_label(ReferralAccount, "status"), choice_label(ReferralAccount, "status")),
            (field_label(ReferralAccount, "points"), lambda a: a.points),
            (_("cash"), lambda a: a.cash_text),
            (_("balance as of (Feishu time)"), lambda a: from_ms(a.assets_modify_time)),
        ]

    def export_queryset(self, queryset):
        # Only what the columns read: loading the unused timestamps costs a fifth of the time.
        return queryset.only(
            "name",
            "mobile_code",
            "mobile_number",
            "email",
            "account_id",
            "status",
            "points",
            "assets_modify_time",
        )

    def export_attach(self, rows):
        cash = defaultdict(list)
        held = AccountCash.objects.filter(account__in=[a.pk for a in rows]).order_by("pk")
        for account_id, amount, currency in held.values_list("account_id", "amount", "currency"):
            cash[account_id].append(f"{amount} {currency}")
        for account in rows:
            account.cash_text = ", ".join(cash[account.pk]) or "—"
