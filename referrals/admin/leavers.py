"""The leavers queue: employees who left, the account each matched, the balance when the policy
applied and now, where each stands, and HR's hand where matching could not decide."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hireops.core import display
from hireops.core.admin import ChangedThroughActions, action_page
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.privacy import personal
from hireops.jobs.admin import run_operation
from hireops.tenants.filters import StoreTenantFilter

from .. import bulk
from ..models import AccountStatus, Leaver, ReferralAccount


class AccountActiveFilter(admin.SimpleListFilter):
    """The ops status check links here: leavers whose account is still active."""

    title = _("account still active")
    parameter_name = "account_active"

    def lookups(self, request, model_admin):
        return [("1", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(account__status=AccountStatus.ACTIVE)
        return queryset


class MatchForm(forms.Form):
    account = forms.CharField(
        label=_("Account"),
        max_length=128,
        help_text=_("The account's number (# in the accounts list) or its Feishu account id."),
    )

    def clean_account(self):
        value = self.cleaned_data["account"].strip().lstrip("#")
        query = Q(account_id=value)
        if value.isdigit() and len(value) <= 12:
            query |= Q(pk=int(value))
        found = list(ReferralAccount.objects.filter(query)[:2])
        if len(found) != 1:
            raise forms.ValidationError(_("No single account has this number or Feishu id."))
        return found[0]


def _cash_text(cash) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted((cash or {}).items())) or "—"


def account_label(account: ReferralAccount, *, full: bool) -> str:
    """What a person recognises an account by: its employee's name, else its Feishu account id,
    else its email or mobile (masked unless ``full``: the reader may see personal data)."""
    if account.name or account.account_id:
        return account.name or account.account_id  # type: ignore[return-value]  # one of them is set
    return personal.shown(None, account, "email" if account.email else "mobile_number", full=full)


def matching_accounts(leaver: Leaver, *, full: bool, numbered: bool = False) -> str:
    """The accounts that matched ``leaver``, each linked to its page; ``numbered`` adds the
    number the match form takes ("王芳 (#3)")."""
    found = ReferralAccount.objects.in_bulk(leaver.candidates)
    shown = []
    for pk in leaver.candidates:
        account = found.get(pk)
        if account is None:  # removed since: its number is all there is
            shown.append(format_html("#{}", pk))
            continue
        label = account_label(account, full=full)
        url = reverse("admin:referrals_referralaccount_change", args=[pk])
        shown.append(format_html('<a href="{}">{}</a>{}', url, label, f" (#{pk})" if numbered else ""))
    return format_html_join(", ", "{}", ((item,) for item in shown)) or "—"


def _candidates_field(full: bool):
    @admin.display(description=_("matching accounts"))
    def candidate_accounts(leaver):
        return matching_accounts(leaver, full=full)

    return candidate_accounts


# The leaver page's "matching accounts", for a reader who may see personal data and for one
# who may not (a name-less account unregistered in Feishu is known by its email or mobile).
CANDIDATES = {full: _candidates_field(full) for full in (True, False)}


@admin.register(Leaver)
class LeaverAdmin(LargeTableAdmin, ChangedThroughActions, admin.ModelAdmin):
    list_display = (
        "__str__",
        "tenant_key",
        "account",
        "match",
        "balance_then",
        "balance_now",
        "state",
        "policy",
        "problem",
        "created_at",
    )
    list_filter = ("state", "match", "policy", AccountActiveFilter, StoreTenantFilter)
    list_select_related = ("account",)
    search_fields = ("name", "user_id", "open_id")  # see get_search_results
    actions = ["apply_now", "match_to_account", "no_account", "mark_handled"]
    readonly_fields = (
        "name",
        "tenant_key",
        "open_id",
        "union_id",
        "user_id",
        "how",
        "source_event_id",
        "match",
        "candidate_accounts",
        "account",
        "policy",
        "balance_then",
        "balance_now",
        "state",
        "handled_by_hand",
        "error",
        "withdrawal",
        "created_at",
        "applied_at",
        "done_at",
        "updated_at",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("account__cash")

    def get_search_results(self, request, queryset, search_term):
        """A part of the name, or an exact employee id or open_id."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(name__icontains=term) | Q(user_id=term) | Q(open_id=term)), False

    @admin.display(description=_("balance when applied"))
    def balance_then(self, obj):
        if obj.points_then is None:
            return "—"
        return _("%(points)s points; %(cash)s") % {
            "points": obj.points_then,
            "cash": _cash_text(obj.cash_then),
        }

    @admin.display(description=_("balance now"))
    def balance_now(self, obj):
        if obj.account is None:
            return "—"
        cash = {c.currency: c.amount for c in obj.account.cash.all()}
        return _("%(points)s points; %(cash)s") % {"points": obj.account.points, "cash": _cash_text(cash)}

    @admin.display(description=_("problem"))
    def problem(self, obj):
        return display.short(obj.error, 40)

    @admin.display(description=_("matching accounts"))
    def candidate_accounts(self, obj):
        """Named in ``readonly_fields``; each page shows its reader's one (``CANDIDATES``)."""
        return CANDIDATES[False](obj)

    def _per_reader(self, request, fields):
        shown = CANDIDATES[personal.can_see_personal_data(request.user)]
        return [shown if f == "candidate_accounts" else f for f in fields]

    def get_fields(self, request, obj=None):
        return self._per_reader(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self._per_reader(request, super().get_readonly_fields(request, obj))

    def has_add_permission(self, request):
        return False  # leavers come from Feishu's directory events

    def has_delete_permission(self, request, obj=None):
        return False  # nothing about a leaver is lost

    @admin.action(description=_("Apply the policy now"), permissions=["change"])
    def apply_now(self, request, queryset):
        return run_operation(self, request, bulk.leaver_apply, queryset)

    @admin.action(description=_("Match to an account…"), permissions=["change"])
    def match_to_account(self, request, queryset):
        form = MatchForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return run_operation(
                self, request, bulk.leaver_match, queryset, {"account": form.cleaned_data["account"].pk}
            )
        full = personal.can_see_personal_data(request.user)
        return action_page(
            self,
            request,
            "admin/referrals/leaver_match.html",
            _("Match to an account"),
            form,
            leavers=[(leaver, matching_accounts(leaver, full=full, numbered=True)) for leaver in queryset],
            action="match_to_account",
        )

    @admin.action(description=_("Confirm: no referral account"), permissions=["change"])
    def no_account(self, request, queryset):
        return run_operation(self, request, bulk.leaver_no_account, queryset)

    @admin.action(description=_("Mark as handled"), permissions=["change"])
    def mark_handled(self, request, queryset):
        return run_operation(self, request, bulk.leaver_handled, queryset)
