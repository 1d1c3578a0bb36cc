"""Text files staff upload (CSV imports): read as Excel in China saves them, checked as a whole
before any row is acted on.

- A file larger than ``CSV_IMPORT_MAX_BYTES`` is refused by its form field (``CsvFileField``)
  before a byte of it is read: Django has streamed it to a temporary file by then.
- A file is read as a stream of lines (never whole in memory), as UTF-8 and, failing that,
  as GB18030 from its start again.
- A line that cannot be read (a value longer than the ``csv`` module's limit, a NUL
  character, which no database column holds) becomes a refused row: its message is the row's
  outcome, every other row runs (``hireops.jobs`` never runs a refused row).
"""

import csv
import io
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

REFUSED = "refused"  # the key of a row that could not be read: why, for staff


class UnreadableFile(ValueError):
    pass


class CsvFileField(forms.FileField):
    """A CSV file to import, refused on the form when over ``CSV_IMPORT_MAX_BYTES``."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        limit = settings.CSV_IMPORT_MAX_BYTES
        if upload and upload.size > limit:
            raise forms.ValidationError(
                _("This file has %(size)s; an import takes at most %(limit)s: split it into smaller files.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
                code="too_large",
            )
        return upload


def row_refusal(row: dict) -> str:
    """Why an import row could not be read, or "" for a row to run."""
    return row.get(REFUSED, "") if isinstance(row, dict) else ""


def read_csv(
    source, columns: tuple[str, ...], *, accepts: Callable[[set[str]], bool], refusal: str, max_rows: int
) -> list[dict]:
    """The non-empty rows of ``source`` (an upload, any binary file, or bytes) as
    ``{"line": n, column: value, …}`` (column names matched whatever their case, values
    stripped, absent columns empty; a line that cannot be read has ``REFUSED`` instead of
    values). Raises ``UnreadableFile`` with a message for staff: not text, a first line
    ``accepts`` refuses (``refusal``), more than ``max_rows`` rows, or none."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else getattr(source, "file", source)
    for encoding in ("utf-8-sig", "gb18030"):
        stream.seek(0)
        lines = io.TextIOWrapper(stream, encoding=encoding, newline="")  # decoded as they are read
        try:
            return _rows(lines, columns, accepts, refusal, max_rows)
        except UnicodeDecodeError:
            continue
        finally:
            lines.detach()  # closing the wrapper would close the upload
    raise UnreadableFile(_("The file is neither UTF-8 nor GB18030 text."))


def _rows(lines, columns, accepts, refusal: str, max_rows: int) -> list[dict]:
    reader = csv.reader(lines)
    try:
        names = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        names = []
    if not accepts(set(names) - {""}):
        raise UnreadableFile(refusal)
    rows: list[dict] = []
    while True:
        line = reader.line_num + 1  # where the next row starts
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row = _refused(line, columns, _unreadable(exc))
        else:
            found = {name: value.strip() for name, value in zip(names, values, strict=False) if name}
            if not any(found.values()):
                continue
            if any("\x00" in value for value in values):
                row = _refused(line, columns, _("This line holds a NUL character, which is not text."))
            else:
                row = {"line": line, **{c: found.get(c, "") for c in columns}}
        if len(rows) == max_rows:
            raise UnreadableFile(
                ngettext("At most %(n)d row per file.", "At most %(n)d rows per file.", max_rows)
                % {"n": max_rows}
            )
        rows.append(row)
    if not rows:
        raise UnreadableFile(_("The file has no rows below its first line."))
    return rows


def _refused(line: int, columns, why: str) -> dict:
    # No value of the line is kept: it is what could not be read.
    return {"line": line, **dict.fromkeys(columns, ""), REFUSED: why}


def _unreadable(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        limit = csv.field_size_limit()
        return ngettext(
            "A value on this line is longer than %(n)s character.",
            "A value on this line is longer than %(n)s characters.",
            limit,
        ) % {"n": f"{limit:,}"}
    return _("This line is not valid CSV.")
