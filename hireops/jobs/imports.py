"""CSV imports, declared once by the app that owns them and run the same way everywhere.

An import is an operation (``hireops.jobs.operations``) whose items are a file's rows: the
app says what a row is (its columns, which the first line must name), how a row is checked
and applied (``run``, in its own transaction, recording the change), who may import (a
permission) and how staff read it (the file's columns, the report's words). The platform
does the rest: the upload form (with the tenant for a store app), the checks of the file as a
whole (``hireops.core.spreadsheets.uploads``: size, encoding, columns, rows; a line that cannot be read is
refused alone), the rows inline with a report for a few, as a background job beyond
``BULK_INLINE_MAX``. Declared in the app's ``bulk.py``, like its other operations, and
mounted on its admin with ``hireops.jobs.admin.CsvImportAdmin`` (docs/extending.md, "Add a
CSV import").
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy

from hireops.core.secrets.sealing import seal
from hireops.core.spreadsheets.uploads import CsvFileField, read_csv
from hireops.tenants.forms import tenant_field

from .operations import Operation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True, kw_only=True)
class CsvImport(Operation):
    columns: tuple[str, ...]  # what a row is: {"line": n, column: value, …}
    required: tuple[str, ...] = ()  # the first line names all of these
    one_of: tuple[str, ...] = ()  # and at least one of these
    first_line: "StrOrPromise"  # why a file whose first line does not is refused
    help_text: "StrOrPromise"  # the columns, for staff choosing a file (HTML)
    # The report of a file run inline, what was done with its good rows: "%(ok)s rows queued"
    # (ngettext_lazy(singular, plural, "ok")); the rows refused are counted after it.
    summary: "StrOrPromise"
    item_header: "StrOrPromise" = gettext_lazy("row")  # noqa: RUF009 (immutable) the report's column of row labels
    permission: str  # "app.codename": who may import
    per_tenant: bool = False  # the form asks for the tenant; the rows run with params["tenant_key"]
    sealed: tuple[str, ...] = ()  # columns encrypted as soon as read: a job stores its rows until they run
    max_rows: int = 5000

    def accepts(self, headers: set[str]) -> bool:
        return set(self.required) <= headers and (not self.one_of or bool(headers & set(self.one_of)))

    def read(self, source) -> list[dict]:
        """The file's rows (``hireops.core.spreadsheets.uploads.read_csv``), sealed columns encrypted.
        Raises ``UnreadableFile`` with a message for staff."""
        rows = read_csv(
            source, self.columns, accepts=self.accepts, refusal=str(self.first_line), max_rows=self.max_rows
        )
        for row in rows:
            for column in self.sealed:
                row[column] = seal(row[column])
        return rows

    def form(self, data=None, files=None) -> forms.Form:
        return ImportForm(self, data, files)

    def params(self, form) -> dict:
        """The rows' options, from the valid form."""
        return {"tenant_key": form.cleaned_data.get("tenant_key") or ""} if self.per_tenant else {}


class ImportForm(forms.Form):
    def __init__(self, csv_import: CsvImport, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if csv_import.per_tenant:
            self.fields["tenant_key"] = tenant_field(initial="")
        self.fields["file"] = CsvFileField(label=gettext_lazy("CSV file"), help_text=csv_import.help_text)
