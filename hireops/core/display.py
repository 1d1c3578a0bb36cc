"""Small formatting helpers for admin screens."""

import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

JUST_NOW = timedelta(minutes=1)  # below this, timesince says "0 minutes"


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """A stored moment (UTC in the database) as people here read it: in the current time zone
    (TIME_ZONE, Beijing by default), as every page Django renders shows it. Admin code that
    formats a datetime itself goes through here, never ``strftime`` on the stored value."""
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def from_ms(ms: int | None) -> str:
    """Feishu's millisecond timestamps as local date and time (seconds shown: events are that close)."""
    if ms is None:
        return "—"
    return local_time(datetime.fromtimestamp(ms / 1000, UTC), seconds=True)


def ago(moment: datetime) -> str:
    """How long ago, as a person says it: "just now" under a minute, else "3 hours ago"."""
    if timezone.now() - moment < JUST_NOW:
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(moment)}


def cash(amounts: dict | None) -> str:
    """{"CNY": "12.50"} → "12.50 CNY"."""
    if not amounts:
        return "—"
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(amounts.items()))


def short(text, limit: int = 40) -> str:
    """A long text cut to ``limit`` characters for a list column, whole in its tooltip."""
    text = str(text or "")
    if not text:
        return "—"
    if len(text) <= limit:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: limit - 1])


def with_code(name, code) -> str:
    """A name with its code in small type beneath it, for a list column that shows both; the
    code alone when there is no name."""
    if not name:
        return str(code or "—")
    return format_html('{}<br><small style="color: var(--body-quiet-color)">{}</small>', name, code)


def pretty_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2) if value is not None else "—"
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


def time_zone_label() -> str:
    """The zone every time on a page is shown in, said once per page: "Asia/Shanghai
    (UTC+08:00)", the offset as of now (a zone with summer time says which one is in force)."""
    now = timezone.localtime()
    offset = now.strftime("%z")
    return _("Times in %(zone)s (UTC%(offset)s)") % {
        "zone": timezone.get_current_timezone_name(),
        "offset": f"{offset[:3]}:{offset[3:]}",
    }
