"""The calls to Feishu shown on their account's or reward's page (registrations, status
changes, reward deletions), also listed on their own: where the status page sends whoever
looks at those stuck or failed (hireops.ops.health)."""

from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from hireops.core.admin import SystemRecordAdmin
from hireops.core.admin.large import LargeTableAdmin, exact_search
from hireops.tenants.filters import StoreTenantFilter

from ..models import AccountRegistration, AccountStatusChange, ExternalRewardDeletion, PayoutMessage
from .operations import AccountTenantFilter

CALL_FIELDS = (
    "status",
    "attempts",
    "error",
    "error_code",
    "log_id",
    "requested_by",
    "requested_at",
    "finished_at",
)


class AccountCallAdmin(LargeTableAdmin, SystemRecordAdmin):
    """An account's calls of one kind: a row per call, as many as the accounts."""

    list_display = ("__str__", "account", "status", "attempts", "error", "requested_at")
    list_filter = ("status", AccountTenantFilter)
    list_select_related = ("account",)
    search_fields = ("account__account_id",)  # see get_search_results
    ordering = ("-pk",)  # newest first through the primary key: no sort of every row
    fields = readonly_fields = ("account", *CALL_FIELDS)

    def get_search_results(self, request, queryset, search_term):
        """An exact Feishu account id."""
        return exact_search(queryset, search_term, ("account__account_id",)), False


@admin.register(AccountRegistration)
class AccountRegistrationAdmin(AccountCallAdmin):
    pass


@admin.register(AccountStatusChange)
class AccountStatusChangeAdmin(AccountCallAdmin):
    fields = readonly_fields = ("account", "action", *CALL_FIELDS)  # type: ignore[assignment]  # more fields than its base


class RewardTenantFilter(StoreTenantFilter):
    field = "reward__tenant_key"  # a deletion's tenant is its reward's


@admin.register(ExternalRewardDeletion)
class ExternalRewardDeletionAdmin(SystemRecordAdmin):
    # The reason (free text) is shown masked on the reward's page and in the change history.
    list_display = ("__str__", "reward", "status", "attempts", "error", "requested_at")
    list_filter = ("status", RewardTenantFilter)
    list_select_related = ("reward",)
    ordering = ("-pk",)
    fields = readonly_fields = ("reward", *CALL_FIELDS)


@admin.register(PayoutMessage)
class PayoutMessageAdmin(SystemRecordAdmin):
    """Payout runs' messages to people in Feishu (referrals.payouts.chats): to whom, what the
    card said, Feishu's answer, and whether a waiting run's approver was e-mailed instead."""

    list_display = ("__str__", "recipient", "news", "status", "attempts", "error", "requested_at")
    list_filter = ("status", "news")
    list_select_related = ("recipient",)
    ordering = ("-pk",)
    fields = readonly_fields = (
        "run",
        "news",
        "recipient",
        "language",
        "shown",
        "uuid",
        "message_id",
        "emailed_at",
        *CALL_FIELDS,
    )

    @admin.display(description=_("card sent"))
    def shown(self, obj):
        """The card as its reader saw it: its title, texts and button (not its JSON)."""
        card = obj.card or {}
        title = ((card.get("header") or {}).get("title") or {}).get("content", "")
        texts = [
            (e.get("text") or {}).get("content", "")
            for e in card.get("elements", [])
            if e.get("tag") == "div"
        ]
        links = [a.get("url", "") for e in card.get("elements", []) for a in e.get("actions", [])]
        return (
            format_html_join("", "<p>{}</p>", ((linebreaksbr(t),) for t in [title, *texts, *links] if t))
            or "—"
        )
