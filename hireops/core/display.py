"""Small formatting helpers for admin screens."""

from datetime import datetime

from django.utils import timezone


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
