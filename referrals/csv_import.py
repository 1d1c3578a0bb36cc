"""Bulk registration from a CSV upload: the file is checked as a whole first, then every
row is registered on its own (``referrals.import``, see bulk.py); bad rows change nothing."""

import csv
import io

from django.utils.translation import gettext as _

from hireops.core.masking import mask_email, mask_mobile
from hireops.core.uploads import UnreadableFile, decode_text

from .identity import person
from .models import ReferralAccount
from .registration import account_register

MAX_ROWS = 5000
COLUMNS = ("name", "mobile_code", "mobile", "email")


class ImportRefused(Exception):
    pass


def _decode(raw: bytes) -> str:
    try:
        return decode_text(raw)
    except UnreadableFile as exc:
        raise ImportRefused(str(exc)) from exc


def read_rows(raw: bytes) -> list[dict]:
    """The file's non-empty rows as {"line", "name", "mobile_code", "mobile", "email"}."""
    reader = csv.DictReader(io.StringIO(_decode(raw)))
    headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    if not headers & {"mobile", "email"}:
        raise ImportRefused(
            _("The first line must name the columns: mobile and/or email, optionally name and mobile_code.")
        )
    rows = []
    for line, raw_row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items() if k}
        if not any(row.values()):
            continue
        if len(rows) == MAX_ROWS:
            raise ImportRefused(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
        rows.append({"line": line, **{c: row.get(c, "") for c in COLUMNS}})
    if not rows:
        raise ImportRefused(_("The file has no rows below its first line."))
    return rows


def row_label(row: dict) -> str:
    """A row as the report shows it: line number and who, masked."""
    who = ", ".join(
        filter(
            None,
            [
                row.get("name"),
                mask_mobile(row["mobile"]) if row.get("mobile") else "",
                mask_email(row["email"]) if row.get("email") else "",
            ],
        )
    )
    return _("line %(line)s: %(who)s") % {"line": row["line"], "who": who}


def register_row(row: dict, user=None, tenant_key: str = "") -> ReferralAccount:
    """Register one row; raises ValidationError or AlreadyRegistered when it cannot be."""
    p = person(row["name"], row["mobile_code"], row["mobile"], row["email"])
    return account_register(p, user, tenant_key)
