"""The vendor orders' work over many rows: exam logins imported from a file (hireops.jobs)."""

from django.utils.translation import gettext_lazy, ngettext_lazy

from hireops.jobs.imports import CsvImport
from hireops.jobs.operations import register

from . import login_import
from .writes import WriteRefused

import_logins = register(
    CsvImport(
        "orders.import_logins",
        gettext_lazy("Import exam logins from CSV"),
        login_import.send_row,
        refusals=(WriteRefused,),
        label=login_import.row_label,
        columns=("exam_id", "exam_url", "username", "password"),
        required=("exam_id", "exam_url"),
        sealed=("password",),
        first_line=gettext_lazy(
            "The first line must name the columns: exam_id and exam_url, optionally username and password."
        ),
        help_text=gettext_lazy(
            "Columns: <code>exam_id</code> and <code>exam_url</code>, optionally <code>username</code> and "
            "<code>password</code>. UTF-8 or GB18030."
        ),
        summary=ngettext_lazy("%(ok)s login queued", "%(ok)s logins queued", "ok"),
        permission="orders.work_exam",
    )
)
