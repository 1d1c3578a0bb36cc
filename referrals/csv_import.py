"""Bulk registration from a CSV upload: the file is checked as a whole first, then every
row is registered on its own (``referrals.import``, see bulk.py); bad rows change nothing."""

from django.utils.translation import gettext as _

from hireops.core.masking import mask_email, mask_mobile
from hireops.core.uploads import UnreadableFile, read_csv

from .identity import person
from .models import ReferralAccount
from .registration import account_register

MAX_ROWS = 5000
COLUMNS = ("name", "mobile_code", "mobile", "email")


class ImportRefused(Exception):
    pass


def read_rows(upload) -> list[dict]:
    """The file's non-empty rows as {"line", "name", "mobile_code", "mobile", "email"} (an
    upload, read as a stream, or bytes)."""
    try:
        return read_csv(
            upload,
            COLUMNS,
            accepts=lambda headers: bool(headers & {"mobile", "email"}),
            refusal=_(
                "The first line must name the columns: mobile and/or email, optionally name and mobile_code."
            ),
            max_rows=MAX_ROWS,
        )
    except UnreadableFile as exc:
        raise ImportRefused(str(exc)) from exc


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
    return _("line %(line)s: %(who)s") % {"line": row["line"], "who": who or "—"}


def register_row(row: dict, user=None, tenant_key: str = "") -> ReferralAccount:
    """Register one row; raises ValidationError or AlreadyRegistered when it cannot be."""
    p = person(row["name"], row["mobile_code"], row["mobile"], row["email"])
    return account_register(p, user, tenant_key)
