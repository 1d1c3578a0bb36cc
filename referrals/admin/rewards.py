"""External referral rewards in the admin: the list, the add form, the CSV import and the
deletion in Feishu (with a reason, kept on the row and in the change history)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hireops.core import display
from hireops.core.admin import ChangedThroughActions, ReadOnlyInline, action_page
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.display import from_ms
from hireops.jobs.admin import CsvImportAdmin, run_operation
from hireops.tenants.filters import StoreTenantFilter

from .. import bulk
from ..forms import RewardAddForm, RewardDeleteForm
from ..models import ExternalReferralReward, ExternalRewardDeletion, RewardBonusType
from ..rewards.services import reward_add


class DeletionInline(ReadOnlyInline):
    # Each attempt's call; the reason (free text) is shown masked on the reward and in the history.
    model = ExternalRewardDeletion
    fields = (
        "status",
        "requested_by",
        "requested_at",
        "finished_at",
        "attempts",
        "error",
        "log_id",
    )
    readonly_fields = fields


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted in Feishu")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


@admin.register(ExternalReferralReward)
class ExternalReferralRewardAdmin(LargeTableAdmin, ChangedThroughActions, CsvImportAdmin, admin.ModelAdmin):
    list_display = (
        "external_id",
        "employee",
        "rule_type",
        "stage",
        "bonus",
        "status",
        "deleted",
        "requested_at",
        "problem",
    )  # Feishu's reward id is on the reward's page: the list fits a 1366 px screen
    list_filter = ("status", DeletedFilter, "rule_type", "stage", StoreTenantFilter)
    search_fields = ("external_id", "name")  # see get_search_results
    list_select_related = ("requested_by",)
    actions = ["delete_in_feishu"]
    csv_import, csv_import_url_name = bulk.import_rewards, "referrals_reward_import"
    inlines = [DeletionInline]
    readonly_fields = (
        "tenant_key",
        "external_id",
        "employee_id",
        "account",
        "name",
        "application_id",
        "talent_id",
        "job_id",
        "rule_type",
        "stage",
        "bonus",
        "reason",
        "comment",
        "times",
        "status",
        "reward_id",
        "attempts",
        "error_code",
        "error",
        "log_id",
        "maybe_applied",
        "requested_by",
        "requested_at",
        "finished_at",
        "delete_reason",
        "deleted_by",
        "deleted_at",
    )

    def get_search_results(self, request, queryset, search_term):
        """An exact external id, or a part of the employee's name."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(external_id=term) | Q(name__icontains=term)), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RewardAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return (*RewardAddForm.Meta.fields, *(f for f in RewardAddForm.declared_fields), *_TIMES)
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        # The form read the reward (``form.reward_input``); the service keeps it, queues the call
        # and writes the change history, as it does for the import and the API.
        obj.pk = reward_add(form.reward_input, request.user)[0].pk
        obj.refresh_from_db()

    def log_addition(self, request, obj, message):
        """Nothing: the service recorded the reward as imported (Django's "Added." would say it twice)."""

    def has_delete_permission(self, request, obj=None):
        return False  # a reward stays; "Delete in Feishu" removes it there and keeps the row

    def has_delete_in_feishu_permission(self, request):
        return request.user.has_perm("referrals.delete_in_feishu_externalreferralreward")

    @admin.display(description=_("employee"), ordering="name")
    def employee(self, obj):
        """The name with Feishu's employee id under it: one column, so the list fits a 1366 px
        screen in English."""
        return display.with_code(obj.name, obj.employee_id)

    @admin.display(description=_("amount"))
    def bonus(self, obj):
        if obj.bonus_type == RewardBonusType.POINTS:
            return _("%(points)s points") % {"points": obj.points}
        return f"{obj.amount} {obj.currency}"

    @admin.display(description=_("deleted in Feishu"), boolean=True)
    def deleted(self, obj):
        return obj.deleted_at is not None

    @admin.display(description=_("problem"))
    def problem(self, obj):
        return display.short(obj.error, 30)

    @admin.display(description=_("dates (Feishu time)"))
    def times(self, obj):
        shown = [(obj._meta.get_field(n).verbose_name, getattr(obj, n)) for n in _TIMES]
        return "; ".join(f"{label}: {from_ms(ms)}" for label, ms in shown if ms is not None) or "—"

    @admin.action(description=_("Delete in Feishu…"), permissions=["delete_in_feishu"])
    def delete_in_feishu(self, request, queryset):
        if not self.has_delete_in_feishu_permission(request):
            raise PermissionDenied
        form = RewardDeleteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return run_operation(
                self, request, bulk.delete_rewards, queryset, {"reason": form.cleaned_data["reason"]}
            )
        return action_page(
            self,
            request,
            "admin/referrals/reward_delete_confirm.html",
            _("Delete external rewards in Feishu"),
            form,
            rewards=queryset,
        )


_TIMES = ("create_time", "confirm_time", "pay_time", "onboard_time", "conversion_time")
