"""Writing exports of admin lists, as CSV and as Excel, from a list of columns.

The admin actions (hireops.jobs.exports.ExportActions) give the columns, masked for the
requesting user, and the rows. Memory stays bounded whatever the selection: rows are read
from the database in chunks of ``CHUNK`` (with what the columns read from other tables, one
query a chunk); the CSV is written line by line and the workbook row by row (to a file on
disk), so a streamed response or a background job's file costs the same few MB.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Column = tuple["StrOrPromise", Callable[[Any], object]]  # header (read as text), value of a row
CSV_TYPE = "text/csv; charset=utf-8"
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


def export_filename(name: str, extension: str) -> str:
    return f"{name}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{extension}"


class _Line:
    """A file-like object that hands back what csv.writer writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: list[Column], rows: Iterable) -> Iterator[str]:
    """UTF-8 with a BOM so Excel opens Chinese text correctly; line by line."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([str(header) for header, _ in columns])
    for row in rows:
        yield writer.writerow([_csv_safe(cell_text(value(row))) for _, value in columns])


def csv_response(name: str, columns: list[Column], rows: Iterable) -> StreamingHttpResponse:
    """Streamed line by line as it is written."""
    response = StreamingHttpResponse(csv_lines(columns, rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(name, "csv")}"'
    return response


def _xlsx_value(value):
    """Numbers and dates stay numbers and dates (Excel can sum and sort them); everything
    else is text (or an empty cell), never a formula, whatever it starts with: the workbook
    is opened with ``strings_to_formulas`` off."""
    if isinstance(value, datetime):  # to the second, as the CSV (Excel would round the rest)
        return _local(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, int | Decimal | float | date) and not isinstance(value, bool):
        return value
    return cell_text(value) or None


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK takes two columns


def write_xlsx(file, name: str, columns: list[Column], rows: Iterable) -> None:
    """Write the workbook to ``file`` (a binary file open for writing). XlsxWriter in
    ``constant_memory`` mode: each row goes to a temporary file as it is written (memory stays
    flat), twice as fast as openpyxl's write-only mode."""
    # Imported here: only the process writing a workbook pays its import, not every process
    # that loads the admin at start.
    import xlsxwriter

    book = xlsxwriter.Workbook(
        file,
        {
            "constant_memory": True,
            "strings_to_formulas": False,  # "=HYPERLINK(…)" typed by a customer stays text
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
        },
    )
    sheet = book.add_worksheet(name[:31])
    sheet.freeze_panes(1, 0)
    headers = [str(header) for header, _ in columns]
    for index, header in enumerate(headers):
        sheet.set_column(index, index, max(12, _width(header) + 4))
    sheet.write_row(0, 0, headers, book.add_format({"bold": True}))
    values = [value for _, value in columns]
    for number, row in enumerate(rows, start=1):
        for index, value in enumerate(values):
            cell = _xlsx_value(value(row))
            if cell is not None:
                sheet.write(number, index, cell)
    book.close()


def write_csv(file, columns: list[Column], rows: Iterable) -> None:
    """The CSV ``csv_response`` streams, written to ``file`` (binary, open for writing)."""
    for line in csv_lines(columns, rows):
        file.write(line.encode())


def xlsx_response(name: str, columns: list[Column], rows: Iterable) -> FileResponse:
    """The workbook written to a temporary file, then streamed from it."""
    workbook = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it (and so deletes it)
    write_xlsx(workbook, name, columns, rows)
    workbook.seek(0)
    return FileResponse(
        workbook, as_attachment=True, filename=export_filename(name, "xlsx"), content_type=XLSX_TYPE
    )


def field_label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def choice_label(model, name: str) -> Callable[[object], str]:
    """A column of a choices field's labels, translated once per export (``get_FOO_display``
    translates, and hashes the choices, for every row: a third of a 200,000-row export)."""
    labels = {value: str(label) for value, label in model._meta.get_field(name).flatchoices}
    return lambda row: labels.get(getattr(row, name), getattr(row, name))


def chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk
