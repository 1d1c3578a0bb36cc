"""Exams' login information from a CSV file (an exam platform's export): each row becomes the
same login write staff send from the exam's page (``writes.login_request``), checked and
sent row by row (``orders.import_logins``, declared in bulk.py); a bad row changes nothing.

Columns: ``exam_id`` and ``exam_url``, optionally ``username`` and ``password``. A password
is encrypted as soon as the file is read: a background job's rows are stored until they run,
and never in the clear.
"""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core.secrets.sealing import unseal

from . import writes
from .models import Exam

# The change history's words (hireops.core.audit), on the exam and on its write.
LOGIN_IMPORTED = gettext_noop("Exam login imported from a CSV file (write %(writes)s).")


def row_label(row: dict) -> str:
    return _("line %(line)s: exam %(exam)s") % {"line": row["line"], "exam": row["exam_id"] or "—"}


def send_row(row: dict, params: dict, user) -> str:
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
        password=unseal(row["password"]),
        user=user,
        history=LOGIN_IMPORTED,
    )
    return _("Login queued.")
