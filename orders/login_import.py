"""Exams' login information from a CSV file (an exam platform's export): each row becomes the
same login write staff send from the exam's page (``writes.login_request``), checked and
sent row by row (``orders.import_logins`` in bulk.py); a bad row changes nothing.

Columns: ``exam_id`` and ``exam_url``, optionally ``username`` and ``password``. A password
is encrypted as soon as the file is read: a background job's rows are stored until they run,
and never in the clear.
"""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from hireops.core.sealing import seal, unseal
from hireops.core.uploads import UnreadableFile, read_csv

from . import writes
from .models import Exam

MAX_ROWS = 5000
COLUMNS = ("exam_id", "exam_url", "username", "password")


class ImportRefused(Exception):
    pass


def read_rows(upload) -> list[dict]:
    """The file's non-empty rows as {"line", "exam_id", "exam_url", "username", "password"},
    the password sealed (an upload, read as a stream, or bytes)."""
    try:
        rows = read_csv(
            upload,
            COLUMNS,
            accepts=lambda headers: {"exam_id", "exam_url"} <= headers,
            refusal=_(
                "The first line must name the columns: exam_id and exam_url, "
                "optionally username and password."
            ),
            max_rows=MAX_ROWS,
        )
    except UnreadableFile as exc:
        raise ImportRefused(str(exc)) from exc
    for row in rows:
        row["password"] = seal(row["password"])
    return rows


def row_label(row: dict) -> str:
    return _("line %(line)s: exam %(exam)s") % {"line": row["line"], "exam": row["exam_id"] or "—"}


def send_row(row: dict, user) -> str:
    exams = list(Exam.objects.filter(exam_id=row["exam_id"])[:2]) if row["exam_id"] else []
    if not exams:
        raise writes.WriteRefused(_("No exam with this id."))
    if len(exams) > 1:
        raise writes.WriteRefused(_("Two tenants have an exam with this id: send it from the exam's page."))
    try:
        URLValidator(schemes=["http", "https"])(row["exam_url"])
    except ValidationError as exc:
        raise writes.WriteRefused(_("The exam link is not a web address.")) from exc
    writes.login_request(
        exams[0],
        url=row["exam_url"],
        username=row["username"],
        password=unseal(row["password"]) if row["password"] else "",
        user=user,
    )
    return _("Login queued.")
