"""External rewards from a CSV upload: the file is read as a whole first, then each row is
kept and sent on its own (``referrals.import_external_rewards``, see bulk.py). A bad row
changes nothing; a row whose external id was imported before changes nothing either, so
importing the same file again is harmless."""

from django.utils.translation import gettext as _

from hireops.core.uploads import UnreadableFile, read_csv

from .rewards import COLUMNS

MAX_ROWS = 5000


class RewardImportRefused(Exception):
    pass


def read_reward_rows(upload) -> list[dict]:
    try:
        return read_csv(
            upload,
            COLUMNS,
            accepts=lambda headers: {"external_id", "employee_id"} <= headers,
            refusal=_("The first line must name the columns, at least external_id and employee_id."),
            max_rows=MAX_ROWS,
        )
    except UnreadableFile as exc:
        raise RewardImportRefused(str(exc)) from exc


def reward_row_label(row: dict) -> str:
    """A row as the report shows it: its line and external id (no personal data)."""
    return _("line %(line)s: %(id)s") % {"line": row["line"], "id": row.get("external_id") or "—"}
