"""Exports of admin lists, as CSV and as Excel, from one column list per admin.

An admin mixes in ``ExportActions`` and says once which columns it exports (``export_columns``,
where the masking rule is applied for the requesting user); both actions write exactly those.

Memory stays bounded whatever the selection (200,000 rows included): rows are read from the
database in chunks of ``CHUNK`` (with their prefetches), the CSV is streamed to the browser
as it is written, and the workbook is written row by row to a temporary file on disk, then
streamed from it.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal

from django.contrib import admin
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Column = tuple[str, Callable[[object], object]]  # header, value of a row
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CHUNK = 2000  # rows read from the database at a time


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def cell_text(value) -> str:
    """A value as the CSV shows it (date and time in local time, to the second)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value).strftime(DATETIME_FORMAT)
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN = re.compile(r"[+-]?[\d.]+( [\d*]+)?")  # "-12.50", "+86 138****8000": values, not formulas


def _csv_safe(text: str) -> str:
    """Text a spreadsheet would run as a formula (a name typed as "=HYPERLINK(…)") gets a
    leading apostrophe so it stays text (OWASP's CSV-injection advice). The .xlsx export
    needs none: its cells are typed."""
    if text.startswith(_FORMULA_START) and not _PLAIN.fullmatch(text):
        return "'" + text
    return text


def _filename(name: str, extension: str) -> str:
    return f"{name}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{extension}"


class _Line:
    """A file-like object that hands back what csv.writer writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_response(name: str, columns: list[Column], rows: Iterable) -> StreamingHttpResponse:
    """UTF-8 with a BOM so Excel opens Chinese text correctly; streamed line by line."""

    def lines():
        writer = csv.writer(_Line())
        yield "\ufeff" + writer.writerow([str(header) for header, _ in columns])
        for row in rows:
            yield writer.writerow([_csv_safe(cell_text(value(row))) for _, value in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(name, "csv")}"'
    return response


def _xlsx_cell(sheet, value) -> WriteOnlyCell:
    """Numbers and dates stay numbers and dates (Excel can sum and sort them); everything
    else is text, never a formula, whatever it starts with."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=_local(value).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, int | Decimal | float | date) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    text = ILLEGAL_CHARACTERS_RE.sub("", cell_text(value))
    cell = WriteOnlyCell(sheet, value=text or None)
    if text:
        cell.data_type = "s"  # "=…" stays text: no formula from a customer-typed name
    return cell


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK takes two columns


def xlsx_response(name: str, columns: list[Column], rows: Iterable) -> FileResponse:
    book = Workbook(write_only=True)  # rows go to disk as they are appended, not into memory
    sheet = book.create_sheet(title=name[:31])
    sheet.freeze_panes = "A2"
    headers = [str(header) for header, _ in columns]
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, _width(header) + 4)
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value(row)) for _, value in columns])
    workbook = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it (and so deletes it)
    book.save(workbook)
    workbook.seek(0)
    return FileResponse(
        workbook, as_attachment=True, filename=_filename(name, "xlsx"), content_type=XLSX_TYPE
    )


def field_label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


class ExportActions:
    """ModelAdmin mixin: "Export selected as CSV" and "… as Excel (.xlsx)", same columns."""

    export_name = ""  # file name before the timestamp

    def export_columns(self, request) -> list[Column]:
        raise NotImplementedError

    def export_queryset(self, queryset):
        """The selection, with what the columns read joined or prefetched."""
        return queryset

    def export_rows(self, queryset):
        return self.export_queryset(queryset).iterator(chunk_size=CHUNK)

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return csv_response(self.export_name, self.export_columns(request), self.export_rows(queryset))

    @admin.action(description=_("Export selected as Excel (.xlsx)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return xlsx_response(self.export_name, self.export_columns(request), self.export_rows(queryset))
