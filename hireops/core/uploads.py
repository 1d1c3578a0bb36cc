"""Text files staff upload (CSV imports): read as Excel in China saves them, checked as a whole
before any row is acted on."""

import csv
import io
from collections.abc import Callable

from django.utils.translation import gettext as _


class UnreadableFile(ValueError):
    pass


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB18030, which Excel in China often uses."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file is neither UTF-8 nor GB18030 text."))


def read_csv(
    raw: bytes, columns: tuple[str, ...], *, accepts: Callable[[set[str]], bool], refusal: str, max_rows: int
) -> list[dict]:
    """The file's non-empty rows as ``{"line": n, column: value, …}`` (column names matched
    whatever their case, values stripped, absent columns empty). Raises ``UnreadableFile``
    with a message for staff: not text, a first line ``accepts`` refuses (``refusal``), more
    than ``max_rows`` rows, or none."""
    reader = csv.DictReader(io.StringIO(decode_text(raw)))
    if not accepts({(h or "").strip().lower() for h in reader.fieldnames or []}):
        raise UnreadableFile(refusal)
    rows = []
    for line, raw_row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items() if k}
        if not any(row.values()):
            continue
        if len(rows) == max_rows:
            raise UnreadableFile(_("At most %(n)d rows per file.") % {"n": max_rows})
        rows.append({"line": line, **{c: row.get(c, "") for c in columns}})
    if not rows:
        raise UnreadableFile(_("The file has no rows below its first line."))
    return rows
