"""Bulk registration from a CSV upload: every row reported, good rows proceed, bad rows change nothing."""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hireops.core.masking import mask_email, mask_mobile

from .identity import person
from .models import ReferralAccount
from .registration import AlreadyRegistered, account_register

MAX_ROWS = 5000
COLUMNS = {"name", "mobile", "mobile_code", "email"}


@dataclass
class RowResult:
    line: int
    who: str  # masked: the report is shown on screen
    ok: bool
    message: str
    account: ReferralAccount | None = None  # the row created, when ok


class ImportRefused(Exception):
    pass


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China often saves GB18030
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file is neither UTF-8 nor GB18030 text."))


def import_accounts(raw: bytes, user=None) -> list[RowResult]:
    reader = csv.DictReader(io.StringIO(_decode(raw)))
    headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    if not headers & {"mobile", "email"}:
        raise ImportRefused(
            _("The first line must name the columns: mobile and/or email, optionally name and mobile_code.")
        )
    results = []
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise ImportRefused(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
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
        try:
            p = person(
                row.get("name", ""), row.get("mobile_code", ""), row.get("mobile", ""), row.get("email", "")
            )
            account = account_register(p, user)
        except ValidationError as exc:
            results.append(RowResult(line, who, False, " ".join(exc.messages)))
        except AlreadyRegistered as exc:
            results.append(RowResult(line, who, False, str(exc)))
        else:
            results.append(
                RowResult(
                    line, who, True, _("Queued for registration (#%(pk)s).") % {"pk": account.pk}, account
                )
            )
    return results
