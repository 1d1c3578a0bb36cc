"""The binding review queue: needs-review first, bind / reject / re-run matching."""

from functools import cached_property
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR
from django.db import connection
from django.db.models import ExpressionWrapper, IntegerField, Q, Value
from django.utils.translation import gettext_lazy as _

from hireops.core import display
from hireops.core.admin import ChangedThroughActions, ReadOnlyInline, action_page
from hireops.core.admin.changelist import with_mixin
from hireops.core.admin.large import EstimatedCountPaginator, LargeTableAdmin
from hireops.core.search import name_search
from hireops.core.spreadsheets.export import choice_label, field_label
from hireops.jobs.admin import run_operation
from hireops.jobs.export_actions import ExportActions
from hireops.tenants.filters import TenantFilter

from .. import bulk
from ..forms import BindCustomerForm, RejectForm
from ..models import (
    REVIEW_QUEUE_FIRST,
    BindingStatusChange,
    EcoAccountBinding,
    Usage,
    VendorCustomer,
    status_label,
)


class UsageFilter(admin.SimpleListFilter):
    title = _("usage")
    parameter_name = "usage"

    def lookups(self, request, model_admin):
        return Usage.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            return queryset.filter(usage_text__contains=f",{int(value)},")
        return queryset


# Up to this many bindings found by a search, the page sorts them rather than walk the review
# queue's index: fetching 10,000 rows through the search's indexes costs about 15 ms, while the
# walk reads every binding before the 25th match (10,000 of them for "001", 50-90 ms).
SORT_FOUND_UP_TO = 10_000


class FoundFirstPaginator(EstimatedCountPaginator):
    """The review queue's pages, with a search's few matches sorted instead of sought.

    PostgreSQL serves the list's order (the review queue first) by walking
    ``binding_review_queue_idx`` and filtering, which for a search it plans expecting the
    matches spread evenly along the queue: 25 matches after a few hundred rows. They are not
    (a part of a number matches bindings decided long ago, at the queue's end), and the walk
    reads ten thousand rows. Once the count is known and small, the list orders by the same
    expression plus zero, which the index does not serve: the search's indexes find the rows
    (a bitmap of each), and a top-25 sort orders them; the customers come in one query of their
    own, as a join would hash every customer (20,000) for the rows sorted. The rows and their
    order are the same; a search matching more walks the queue, where matches are dense."""

    def __init__(self, *args, searching: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.searching = searching

    @cached_property
    def count(self) -> int:
        count = super().count
        queryset: Any = self.object_list
        if self.searching and hasattr(queryset, "query") and count <= SORT_FOUND_UP_TO:
            # The admin's ordering comes twice (its own and the queryset's): both replaced.
            order = list(queryset.query.order_by)
            if order and order[0] == REVIEW_QUEUE_FIRST.asc():
                sorted_first = ExpressionWrapper(
                    REVIEW_QUEUE_FIRST + Value(0), output_field=IntegerField()
                ).asc()
                order = [sorted_first if part == REVIEW_QUEUE_FIRST.asc() else part for part in order]
                self.object_list = queryset.order_by(*order).select_related(None).prefetch_related("customer")
        return count


class FoundFirstChangeList:
    """ChangeList mixin: a list on one page (or shown whole) lists the paginator's rows, as
    its pages do; Django lists its own queryset then, which would walk the queue's index."""

    def get_results(self, request):
        super().get_results(request)  # type: ignore[misc]
        if not self.multi_page or (self.show_all and self.can_show_all):  # type: ignore[attr-defined]
            self.result_list = self.paginator.object_list._clone()  # type: ignore[attr-defined]


class HistoryInline(ReadOnlyInline):
    model = BindingStatusChange
    fields = ("at", "from_label", "to_label", "customer", "actor", "reason")
    readonly_fields = fields

    @admin.display(description=_("from"))
    def from_label(self, obj):
        return status_label(obj.from_status)

    @admin.display(description=_("to"))
    def to_label(self, obj):
        return status_label(obj.to_status)

    verbose_name_plural = _("status history")


@admin.register(EcoAccountBinding)
class EcoAccountBindingAdmin(LargeTableAdmin, ChangedThroughActions, ExportActions, admin.ModelAdmin):
    # Fits a 1366 px screen: the account id, tenant and usage are on the binding's page.
    list_display = ("account_name", "status", "customer", "reason", "scope", "updated_at")
    list_filter = ("status", "scope", UsageFilter, TenantFilter, "decided_manually")
    search_fields = (
        "account_id",
        "account_name",
        "customer__name",
        "field_values_text",
    )  # get_search_results
    list_select_related = ("customer",)
    actions = ["bind_to_customer", "reject", "rematch", "export_csv", "export_xlsx"]
    inlines = [HistoryInline]
    fields = (
        "status",
        "customer",
        "review_reason",
        "decided_manually",
        "account_name",
        "account_id",
        "scope",
        "usage",
        "app_id",
        "tenant_key",
        "field_values_text",
        "source_event_id",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        searching = bool(request.GET.get(SEARCH_VAR, "").strip())
        return FoundFirstPaginator(queryset, per_page, orphans, allow_empty_first_page, searching=searching)

    def get_changelist(self, request, **kwargs):
        return with_mixin(FoundFirstChangeList, super().get_changelist(request, **kwargs))

    def get_ordering(self, request):
        # The review queue comes first, whatever else is filtered (binding_review_queue_idx).
        return [REVIEW_QUEUE_FIRST.asc(), "-updated_at"]

    search_help_text = _(
        "A part of the account's or the customer's name, an account id, or a custom-field value."
    )

    def get_search_results(self, request, queryset, search_term):
        """An exact account id or custom-field value (as the customer typed it), or a part of the
        account's or the customer's name: each through its own index on PostgreSQL (trigram
        and bigram indexes for names, ``name_search``; a GIN index on the values)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        # The customers' ids first: a list lets PostgreSQL combine the indexes (a subquery
        # would make it scan every binding).
        named = VendorCustomer.objects.filter(name_search.contains("name", term)).values_list("pk", flat=True)
        customers = list(named[:1000])
        if connection.vendor == "postgresql":
            value = Q(custom_field_values__contains=[{"value": term}])
        else:  # SQLite has no JSON containment; its data is small
            value = Q(field_values_text__contains=f"={term}")
        named_account = name_search.contains("account_name", term)
        query = Q(account_id=term) | named_account | value | Q(customer__in=customers)
        return queryset.filter(query), False

    @admin.display(description=_("why"))
    def reason(self, obj):
        return display.short(obj.review_reason)

    @admin.display(description=_("usage"))
    def usage(self, obj):
        return ", ".join(str(Usage(u).label) for u in obj.usage_list if u in Usage.values)

    @admin.action(description=_("Bind to a customer…"), permissions=["change"])
    def bind_to_customer(self, request, queryset):
        form = BindCustomerForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            params = {"customer": form.cleaned_data["customer"].pk, "reason": form.cleaned_data["reason"]}
            return run_operation(self, request, bulk.bind, queryset, params)
        return self._intermediate(request, queryset, form, "bind_to_customer", _("Bind to a customer"))

    @admin.action(description=_("Reject…"), permissions=["change"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            params = {"reason": form.cleaned_data["reason"]}
            return run_operation(self, request, bulk.reject, queryset, params)
        return self._intermediate(request, queryset, form, "reject", _("Reject bindings"))

    @admin.action(description=_("Re-run matching"), permissions=["change"])
    def rematch(self, request, queryset):
        return run_operation(self, request, bulk.rematch, queryset)

    export_name = "eco-account-bindings"

    def export_columns(self, request):
        m = EcoAccountBinding
        return [
            (field_label(m, "account_name"), lambda b: b.account_name),
            (field_label(m, "account_id"), lambda b: b.account_id),
            (field_label(m, "tenant_key"), lambda b: b.tenant_key),
            (field_label(m, "scope"), choice_label(m, "scope")),
            (_("usage"), self.usage),
            (field_label(m, "status"), choice_label(m, "status")),
            (field_label(m, "customer"), lambda b: b.customer),
            (field_label(m, "review_reason"), lambda b: b.review_reason),
            (field_label(m, "field_values_text"), lambda b: "; ".join(b.field_values_text.splitlines())),
            (field_label(m, "updated_at"), lambda b: b.updated_at),
        ]

    def export_queryset(self, queryset):
        return queryset.select_related("customer")

    def _intermediate(self, request, queryset, form, action, title):
        return action_page(
            self, request, "admin/bindings/binding_action.html", title, form, queryset=queryset, action=action
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
