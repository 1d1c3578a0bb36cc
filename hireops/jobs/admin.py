"""Background jobs in the admin: the list with progress, and each job's page, which
refreshes itself while the job runs and lists what failed and why; the actions and CSV
imports that start them."""

import json

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, When
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from hireops.core.admin import SystemRecordAdmin, action_page
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.mixin_bases import AdminMixin
from hireops.core.spreadsheets.uploads import UnreadableFile
from hireops.tenants.columns import StoreColumns
from hireops.tenants.filters import StoreTenantFilter

from . import services
from .imports import CsvImport
from .models import BulkJob, BulkJobItem, ItemStatus, JobStatus
from .operations import Operation, kinds, operation
from .progress import progress_html

ITEMS_SHOWN = 100  # on the job's page, failed first; the item list has them all


def visible_jobs(user, queryset):
    """Jobs of the apps the user works in (an operation ``app.x`` belongs to ``app``), from the
    registered operations, not a DISTINCT over every job."""
    if user.is_superuser:
        return queryset
    return queryset.filter(kind__in=[k for k in kinds() if user.has_module_perms(k.split(".")[0])])


def items_url(job: BulkJob, **filters) -> str:
    """The job's items in their admin list, e.g. ``status__exact="failed"``."""
    query = "&".join(f"{k}={v}" for k, v in {"job__id__exact": job.pk, **filters}.items())
    return reverse("admin:jobs_bulkjobitem_changelist") + "?" + query


class CsvImportAdmin(AdminMixin):
    """A ModelAdmin's CSV import page (``csv_import``, declared by the app), at
    ``csv_import_path`` below the list, named ``admin:<csv_import_url_name>``: the file is read
    and checked as a whole, then its rows run inline with a report for a few, as a background
    job beyond. The list gets ``csv_import_url`` for its link when the user may import."""

    csv_import: CsvImport
    csv_import_path = "import/"
    csv_import_url_name: str

    def get_urls(self):
        view = self.admin_site.admin_view(self.csv_import_view)
        return [path(self.csv_import_path, view, name=self.csv_import_url_name), *super().get_urls()]

    def may_import(self, request) -> bool:
        return request.user.has_perm(self.csv_import.permission)

    def changelist_view(self, request, extra_context=None):
        url = reverse(f"admin:{self.csv_import_url_name}") if self.may_import(request) else None
        return super().changelist_view(request, {**(extra_context or {}), "csv_import_url": url})

    def csv_import_view(self, request):
        declared = self.csv_import
        if not self.may_import(request):
            raise PermissionDenied
        form = declared.form(request.POST or None, request.FILES or None)
        outcomes = None
        if form.is_valid():
            try:
                rows = declared.read(form.cleaned_data["file"])  # read as a stream, never whole
            except UnreadableFile as exc:
                form.add_error("file", str(exc))
            else:
                if not services.runs_inline(len(rows)):
                    return run_operation(self, request, declared, rows, declared.params(form))
                outcomes = services.run_inline(declared, rows, declared.params(form), request.user)
        ok = sum(o.ok for o in outcomes or [])
        return action_page(
            self,
            request,
            "admin/hireops/import.html",
            declared.title,
            form,
            outcomes=outcomes,
            summary=_summary(declared.summary, ok, len(outcomes or []) - ok),
            item_header=declared.item_header,
            inline_max=settings.BULK_INLINE_MAX,
        )


def _summary(done, ok: int, bad: int) -> str:
    """ "2 rows kept, 1 row refused.": each count with its own plural."""
    refused = ngettext("%(bad)s row refused", "%(bad)s rows refused", bad) % {"bad": bad}
    return _("%(done)s, %(refused)s.") % {"done": done % {"ok": ok}, "refused": refused}


def run_operation(model_admin, request, op: Operation, targets, params=None):
    """Run an admin action's operation: inline for up to BULK_INLINE_MAX rows (one message
    per row; returns None, which the admin answers by going back to the list), as a
    background job beyond that (returns a redirect to the job's page)."""
    targets = list(targets)
    params = params or {}
    if services.runs_inline(len(targets)):
        for outcome in services.run_inline(op, targets, params, request.user):
            level = messages.SUCCESS if outcome.ok else messages.ERROR
            text = _("%(item)s: %(outcome)s") % {"item": outcome.label, "outcome": outcome.message}
            model_admin.message_user(request, text, level)
        return None
    jobs = services.jobs_start(op, targets, params, request.user, language=request.LANGUAGE_CODE)
    if len(jobs) == 1:
        model_admin.message_user(
            request,
            ngettext(
                "%(title)s: %(n)d row goes to a background job; this page follows its progress.",
                "%(title)s: %(n)d rows go to a background job; this page follows its progress.",
                len(targets),
            )
            % {"title": op.title, "n": len(targets)},
            messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:jobs_bulkjob_change", args=[jobs[0].pk]))
    model_admin.message_user(
        request,
        ngettext(
            "%(title)s: %(n)d row of %(tenants)d tenants goes to one background job per tenant.",
            "%(title)s: %(n)d rows of %(tenants)d tenants go to one background job per tenant.",
            len(targets),
        )
        % {"title": op.title, "n": len(targets), "tenants": len(jobs)},
        messages.INFO,
    )
    return HttpResponseRedirect(reverse("admin:jobs_bulkjob_changelist") + f"?kind={op.kind}")


class KindFilter(admin.SimpleListFilter):
    title = gettext_lazy("operation")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        user = request.user
        mine = [k for k in kinds() if user.is_superuser or user.has_module_perms(k.split(".")[0])]
        return sorted(((k, str(operation(k).title)) for k in mine), key=lambda kv: kv[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(BulkJob)
class BulkJobAdmin(StoreColumns, LargeTableAdmin, SystemRecordAdmin):
    store_columns = ("tenant_key",)
    list_display = (
        "id",
        "title",
        "tenant_key",
        "status",
        "progress_bar",
        "requested_by",
        "requested_at",
        "finished_at",
    )
    list_filter = ("status", KindFilter, StoreTenantFilter)
    list_select_related = ("requested_by",)
    fields = (
        "title",
        "tenant_key",
        "status",
        "progress_bar",
        "counts",
        "options",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    change_form_template = "admin/jobs/bulkjob/change_form.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(**services.PROGRESS)
        return visible_jobs(request.user, qs)

    @admin.display(description=gettext_lazy("operation"))
    def title(self, job):
        return operation(job.kind).title

    @admin.display(description=gettext_lazy("progress"))
    def progress_bar(self, job):
        p = services.progress(job)
        return progress_html(p.total, p.done, p.percent)

    @admin.display(description=gettext_lazy("done / failed / remaining"))
    def counts(self, job):
        p = services.progress(job)
        return format_html(
            '<a href="{}">{}</a> / <a href="{}">{}</a> / <a href="{}">{}</a>',
            items_url(job, status__exact=ItemStatus.SUCCEEDED),
            p.succeeded,
            items_url(job, status__exact=ItemStatus.FAILED),
            p.failed,
            items_url(job, status__exact=ItemStatus.PENDING),
            p.remaining,
        )

    @admin.display(description=gettext_lazy("options"))
    def options(self, job):
        return json.dumps(job.params, ensure_ascii=False) if job.params else "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra = {"running": job is not None and job.status != JobStatus.DONE}
        if job is not None:  # from get_queryset: its progress is counted already
            failed_first = Case(When(status=ItemStatus.FAILED, then=0), default=1)
            extra["items"] = job.items.order_by(failed_first, "position")[:ITEMS_SHOWN]
            extra["items_more"] = max(services.progress(job).total - ITEMS_SHOWN, 0)
            extra["items_url"] = items_url(job)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})


@admin.register(BulkJobItem)
class BulkJobItemAdmin(SystemRecordAdmin):
    list_display = ("position", "label", "status", "message", "finished_at", "job")
    list_filter = ("status",)
    search_fields = ("label", "message")
    list_select_related = ("job",)
    fields = readonly_fields = ("job", "position", "label", "status", "message", "finished_at")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(job__in=visible_jobs(request.user, BulkJob.objects.all()))

    def has_module_permission(self, request):
        return False  # reached from a job's page, not from the index


from . import export_admin  # noqa: E402, F401  the exports' list and pages, beside the jobs
