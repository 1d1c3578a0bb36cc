"""Exports in the admin, beside the background jobs: each user's list of their own exports,
each export's page (its progress, refreshed while it runs; the file, or the error and "Try
again"), and the download, which answers the requester alone (404 for anyone else)."""

from django.apps import apps
from django.contrib import admin, messages
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from hireops.core.admin import SystemRecordAdmin
from hireops.core.spreadsheets.export import CSV_TYPE, XLSX_TYPE

from .exports import export_retry, export_storage
from .models import ExportFormat, ExportJob, ExportStatus
from .progress import progress_html


def _mine(request):
    return ExportJob.objects.filter(requested_by_id=request.user.pk)


@admin.register(ExportJob)
class ExportJobAdmin(SystemRecordAdmin):
    list_display = ("id", "title", "status", "progress", "file", "requested_by", "requested_at", "expires_at")
    list_filter = ("status",)
    list_select_related = ("requested_by",)
    fields = readonly_fields = (
        "title",
        "status",
        "progress",
        "file",
        "error",
        "attempts",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
        "expires_at",
    )
    change_form_template = "admin/jobs/exportjob/change_form.html"

    def get_queryset(self, request):
        """Each user's own exports; superusers see everyone's (not their files)."""
        mine = ExpressionWrapper(Q(requested_by_id=request.user.pk), output_field=BooleanField())
        qs = super().get_queryset(request).annotate(mine=mine)
        return qs if request.user.is_superuser else qs.filter(requested_by_id=request.user.pk)

    @admin.display(description=gettext_lazy("export"))
    def title(self, job):
        try:
            what = apps.get_model(job.source)._meta.verbose_name_plural
        except LookupError:
            what = job.source
        return _("%(list)s, %(format)s") % {"list": what, "format": job.get_file_format_display()}

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, job):
        total = job.rows_total or 0
        done = total if job.status == ExportStatus.DONE else min(job.rows_written, total)
        percent = round(100 * done / total) if total else (100 if job.status == ExportStatus.DONE else 0)
        return format_html(
            "{} {}",
            progress_html(total, done, percent),
            (
                ngettext("%(done)s of %(total)s row", "%(done)s of %(total)s rows", total)
                % {"done": f"{done:,}", "total": f"{total:,}"}
                if total
                else ""
            ),
        )

    @admin.display(description=gettext_lazy("file"))
    def file(self, job):
        if job.status != ExportStatus.DONE:
            return "—"
        if not getattr(job, "mine", False):  # only the requester's file is a link
            return job.download_name
        return format_html(
            '<a class="export-download" href="{}">{}</a>',
            reverse("admin:jobs_exportjob_download", args=[job.pk]),
            job.download_name,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        mine = job if job is not None and job.requested_by_id == request.user.pk else None
        extra = {
            "running": job is not None and job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING),
            "download_url": reverse("admin:jobs_exportjob_download", args=[mine.pk])
            if mine is not None and mine.status == ExportStatus.DONE
            else None,
            "retry_url": reverse("admin:jobs_exportjob_retry", args=[mine.pk])
            if mine is not None and mine.status == ExportStatus.FAILED
            else None,
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/download/", view(self.download_view), name="jobs_exportjob_download"),
            path("<int:pk>/retry/", view(self.retry_view), name="jobs_exportjob_retry"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """The file, to the user who asked for it only, while it is kept: anyone else (a
        superuser included: the masking was the requester's) gets 404, as for no export."""
        job = _mine(request).filter(pk=pk, status=ExportStatus.DONE, expires_at__gt=timezone.now()).first()
        if job is None:
            raise Http404
        try:
            file = export_storage().open(job.file_name, "rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        content_type = XLSX_TYPE if job.file_format == ExportFormat.XLSX else CSV_TYPE
        return FileResponse(file, as_attachment=True, filename=job.download_name, content_type=content_type)

    def retry_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = _mine(request).filter(pk=pk).first()
        if job is None:
            raise Http404
        if export_retry(job):
            self.message_user(request, _("The export was queued again."), messages.INFO)
        return HttpResponseRedirect(reverse("admin:jobs_exportjob_change", args=[job.pk]))
