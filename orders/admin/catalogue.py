"""The catalogue in the admin: entries staff edit (each save goes out to the bound accounts it
concerns, as a rollout with progress), and the pushes and rollouts that carry it to Feishu."""

import logging
from datetime import datetime

from django.contrib import admin, messages
from django.db import IntegrityError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bindings.models import EcoAccountBinding
from hireops.core.admin import SystemRecordAdmin
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.display import local_time, pretty_json
from hireops.core.models import CallStatus
from hireops.tenants.filters import TenantFilter

from ..catalogue import pushes
from ..catalogue import services as catalogue_services
from ..catalogue.forms import ADDITIONAL_ITEM_FIELDS, PACKAGE_FIELDS, ExamPaperForm, FormFieldForm
from ..catalogue.models import (
    SCOPE_CATALOGUES,
    AdditionalItem,
    CataloguePush,
    CatalogueRollout,
    ExamPaper,
    FormField,
    Package,
)

log = logging.getLogger(__name__)

# A save refused by the database as its transaction commits: a customer the entry names was
# deleted by a colleague meanwhile (bindings.deletion), or another entry took the code first.
SAVE_REFUSED = _(
    "Nothing was saved: a colleague changed what this entry names while you saved it (a "
    "customer deleted, or the code taken). Check the customers and the code, and save again."
)


class CatalogueEntryAdmin(admin.ModelAdmin):
    autocomplete_fields = ("only_for",)
    list_filter = ("is_active", ("only_for", admin.RelatedOnlyFieldListFilter))
    id_field = "code"

    def get_readonly_fields(self, request, obj=None):
        # Feishu knows an entry by its id: a new id is a new entry (add one, retire this one).
        return (self.id_field,) if obj else ()

    @admin.display(description=_("offered to"))
    def offered_to(self, obj):
        n = obj.n_customers
        if not n:
            return _("every customer")
        return ngettext("%(n)d customer", "%(n)d customers", n) % {"n": n}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_customers=Count("only_for"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A save can fail at the commit of the view's transaction (Django's foreign keys are
        # deferred on PostgreSQL: a customer deleted meanwhile), after the view ran, with
        # nothing of it left, its rollout included. Its notices are held until it commits, and
        # the form is asked once more against what is committed now: the deleted customer is
        # no longer a choice, so the page comes back with what the colleague typed and that
        # field's error, nothing saved; a save that now holds is made once, as asked.
        for attempt in (1, 2):
            request.catalogue_notices = []
            try:
                response = super().changeform_view(request, object_id, form_url, extra_context)
            except IntegrityError:
                log.warning("a catalogue entry's save was refused at its commit", exc_info=True)
                continue
            finally:
                notices, request.catalogue_notices = request.catalogue_notices, None
            if attempt == 2 and response.status_code == 200:  # the form again, drawn later
                self.message_user(request, SAVE_REFUSED, messages.ERROR)
            for notice in notices:
                self.message_user(request, *notice)
            return response
        self.message_user(request, SAVE_REFUSED, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def message_user(self, request, message, level=messages.INFO, extra_tags="", fail_silently=False):
        held = getattr(request, "catalogue_notices", None)
        if held is not None:
            held.append((message, level, extra_tags, fail_silently))  # given once the save has committed
            return
        super().message_user(request, message, level, extra_tags, fail_silently)

    # The admin's writers of the entries, each rolling the catalogue out in its transaction
    # (orders.catalogue.services): the entry and its customers saved (save_model, then
    # save_related), one deleted from its page, several by the delete action.

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        rollout = catalogue_services.catalogue_changed(
            catalogue_services.catalogue_of(self.model), request.user
        )
        url = reverse("admin:orders_cataloguerollout_change", args=[rollout.pk])
        self.message_user(
            request,
            format_html(
                str(_('The change goes out to every bound account it concerns. <a href="{}">Follow it</a>.')),
                url,
            ),
            messages.INFO,
        )

    def delete_model(self, request, obj):
        catalogue_services.entries_delete(self.model.objects.filter(pk=obj.pk), request.user)

    def delete_queryset(self, request, queryset):
        catalogue_services.entries_delete(queryset, request.user)


@admin.register(Package)
class PackageAdmin(CatalogueEntryAdmin):
    list_display = (
        "code",
        "name",
        "offered_to",
        "turnaround_days",
        "is_active",
        "display_order",
        "updated_at",
    )
    search_fields = ("code", "name")
    fields = PACKAGE_FIELDS


@admin.register(AdditionalItem)
class AdditionalItemAdmin(CatalogueEntryAdmin):
    list_display = ("code", "name", "offered_to", "is_active", "display_order", "updated_at")
    search_fields = ("code", "name")
    fields = ADDITIONAL_ITEM_FIELDS


@admin.register(FormField)
class FormFieldAdmin(CatalogueEntryAdmin):
    form = FormFieldForm
    id_field = "key"
    list_display = (
        "key",
        "name_zh",
        "name_en",
        "type",
        "is_required",
        "offered_to",
        "is_active",
        "display_order",
    )
    list_filter = ("type", *CatalogueEntryAdmin.list_filter)  # type: ignore[assignment]  # one more filter
    search_fields = ("key", "name_zh", "name_en")
    fields = FormFieldForm.Meta.fields


@admin.register(ExamPaper)
class ExamPaperAdmin(CatalogueEntryAdmin):
    form = ExamPaperForm
    list_display = (
        "code",
        "name",
        "duration_minutes",
        "question_count",
        "starts_at",
        "ends_at",
        "offered_to",
        "turnaround_days",
        "is_active",
    )
    search_fields = ("code", "name")
    fields = ExamPaperForm.admin_fields


class RolloutFilter(admin.SimpleListFilter):
    title = _("rollout")
    parameter_name = "rollout"

    def lookups(self, request, model_admin):
        value = request.GET.get(self.parameter_name)
        return [(value, _("this rollout"))] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(rollout_id=value) if value and value.isdigit() else queryset


@admin.register(CataloguePush)
class CataloguePushAdmin(LargeTableAdmin, SystemRecordAdmin):
    # Each row's name says its catalogue ("Background-check packages #5"): no column of its own,
    # so the list fits a 1366 px screen in English too (the filter still picks a catalogue).
    list_display = (
        "__str__",
        "binding",
        "tenant_key",
        "reason",
        "status",
        "error",
        "attempts",
        "requested_at",
        "finished_at",
    )
    list_filter = ("status", "catalogue", "reason", TenantFilter, RolloutFilter)
    list_select_related = ("binding",)
    search_fields = ("=binding__account_id",)
    actions = ["push_again"]
    fields = (
        "catalogue",
        "binding",
        "tenant_key",
        "reason",
        "rollout",
        "status",
        "attempts",
        "error",
        "error_code",
        "log_id",
        "note",
        "calls_pretty",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=_("calls"))
    def calls_pretty(self, obj):
        return pretty_json([_with_local_time(call) for call in obj.calls])

    @admin.action(description=_("Push again (what Feishu lacks now)"), permissions=["push"])
    def push_again(self, request, queryset):
        queued = sum(
            pushes.push_retry(p, request.user) is not None for p in queryset.select_related("binding")
        )
        self.message_user(request, ngettext("%d push queued.", "%d pushes queued.", queued) % queued)

    def has_push_permission(self, request):
        return request.user.has_perm("orders.push_catalogue")


def _pushes(status: str | None = None):
    rows = CataloguePush.objects.filter(rollout=OuterRef("pk"))
    if status:
        rows = rows.filter(status=status)
    counted = rows.order_by().values("rollout").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(CatalogueRollout)
class CatalogueRolloutAdmin(SystemRecordAdmin):
    list_display = (
        "__str__",  # names the catalogue, as the pushes' list does
        "status",
        "looked_at",
        "queued",
        "sent",
        "failed",
        "requested_by",
        "requested_at",
        "finished_at",
    )
    list_filter = ("catalogue", "status")
    fields = (
        "catalogue",
        "status",
        "looked_at",
        "queued",
        "sent",
        "failed",
        "waiting",
        "pushes_link",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("requested_by")
            .annotate(
                n_sent=_pushes(CallStatus.SUCCEEDED),
                n_failed=_pushes(CallStatus.FAILED),
                n_waiting=_pushes(CallStatus.QUEUED),
            )
        )

    @admin.display(description=_("accounts looked at"))
    def looked_at(self, obj):
        return f"{obj.considered} / {obj.total}"

    @admin.display(description=_("sent"))
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description=_("failed"))
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description=_("waiting"))
    def waiting(self, obj):
        return obj.n_waiting

    @admin.display(description=_("pushes"))
    def pushes_link(self, obj):
        url = reverse("admin:orders_cataloguepush_changelist") + f"?rollout={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Every push of this rollout"))


def push_catalogues_action(modeladmin, request, queryset):
    """On the bindings list: push the catalogues of the selected bound accounts now."""
    queued = 0
    for binding in queryset.filter(status="bound", customer__isnull=False):
        for catalogue in SCOPE_CATALOGUES[binding.scope]:
            queued += pushes.push_request(binding, catalogue, "staff", request.user) is not None
    modeladmin.message_user(request, ngettext("%d push queued.", "%d pushes queued.", queued) % queued)


# The admin reads an action's label and permissions off its function.
push_catalogues_action.short_description = _("Push catalogues to the selected bound accounts")  # type: ignore[attr-defined]
push_catalogues_action.allowed_permissions = ("push_catalogue",)  # type: ignore[attr-defined]


def _may_push(self, request):
    return request.user.has_perm("orders.push_catalogue")


def offer_on_bindings() -> None:
    """The bindings list gets the action without bindings naming orders."""
    if not admin.site.is_registered(EcoAccountBinding):
        return
    binding_admin = admin.site.get_model_admin(EcoAccountBinding)
    if push_catalogues_action in (binding_admin.actions or ()):
        return
    binding_admin.actions = [*binding_admin.actions, push_catalogues_action]  # type: ignore[misc]  # a list
    type(binding_admin).has_push_catalogue_permission = _may_push  # type: ignore[attr-defined]  # the action's permission


def _with_local_time(call: dict) -> dict:
    """A recorded call with its time ("at", stored as UTC ISO 8601) in local time, as the
    page's other times are."""
    try:
        return {**call, "at": local_time(datetime.fromisoformat(call["at"]), seconds=True)}
    except (KeyError, TypeError, ValueError):
        return call
