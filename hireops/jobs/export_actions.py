"""The admin actions "Export selected as CSV" and "… as Excel (.xlsx)", from one column list.

An admin mixes in ``ExportActions`` and says once which columns it exports (``export_columns``,
where the masking rule is applied for the requesting user); both actions write exactly those.
Up to ``EXPORT_INLINE_MAX`` rows the file is the answer (the CSV streamed as it is written);
beyond, the export becomes a background job (hireops.jobs.exports) and the admin goes to its
page, which shows the progress and then offers the file to its requester alone.
"""

from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy, ngettext

from hireops.core.admin.actions import read_only_action
from hireops.core.spreadsheets import export

from .exports import export_start, runs_inline
from .models import ExportFormat


class ExportActions:
    """ModelAdmin mixin: "Export selected as CSV" and "… as Excel (.xlsx)", same columns."""

    export_name = ""  # file name before the timestamp

    def export_columns(self, request) -> list[export.Column]:
        raise NotImplementedError

    def export_queryset(self, queryset):
        """The selection, with what the columns read joined (``select_related``)."""
        return queryset

    def export_attach(self, rows: list) -> None:
        """Load what the columns read from other tables for one chunk of rows, in one query
        (cheaper than ``prefetch_related``, which builds a queryset per row)."""

    def export_rows(self, queryset) -> Iterator:
        # The list's prefetches (a queryset built per row) give way to export_attach.
        rows = self.export_queryset(queryset.prefetch_related(None)).iterator(chunk_size=export.CHUNK)
        for chunk in export.chunks(rows, export.CHUNK):
            self.export_attach(chunk)
            yield from chunk

    def _export_in_background(self, request, file_format: str):
        job = export_start(self, request, file_format)
        self.message_user(  # type: ignore[attr-defined]  # a ModelAdmin mixin
            request,
            ngettext(
                "More than %(n)s row: the file is written in the background. This page shows its "
                "progress and offers it to you when it is ready.",
                "More than %(n)s rows: the file is written in the background. This page shows its "
                "progress and offers it to you when it is ready.",
                settings.EXPORT_INLINE_MAX,
            )
            % {"n": f"{settings.EXPORT_INLINE_MAX:,}"},
            messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:jobs_exportjob_change", args=[job.pk]))

    @read_only_action(description=gettext_lazy("Export selected as CSV"))
    def export_csv(self, request, queryset):
        if not runs_inline(queryset):
            return self._export_in_background(request, ExportFormat.CSV)
        columns = self.export_columns(request)
        return export.csv_response(self.export_name, columns, self.export_rows(queryset))

    @read_only_action(description=gettext_lazy("Export selected as Excel (.xlsx)"))
    def export_xlsx(self, request, queryset):
        if not runs_inline(queryset):
            return self._export_in_background(request, ExportFormat.XLSX)
        columns = self.export_columns(request)
        return export.xlsx_response(self.export_name, columns, self.export_rows(queryset))
