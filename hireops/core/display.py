"""Small formatting helpers for admin screens."""

import json
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html


def from_ms(ms: int | None) -> str:
    """Feishu's millisecond timestamps as local date and time (seconds shown: events are that close)."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M:%S")


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


def pretty_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2) if value is not None else "—"
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)
