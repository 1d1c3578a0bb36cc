"""Signs of pressure that several processes see, kept in the shared cache for the status
checks: time spent waiting for Feishu's rate limits, 429s met, deliveries the inbox refused.

Counters are per clock hour (kept two hours), written only when something happened, so a
quiet system costs nothing. A cache that is down loses a figure, never a call or a delivery.
"""

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)

REFUSAL_NOTE_EVERY = 10.0  # seconds between one process's notes of inbox refusals
_last_refusal_note = 0.0


def _hour(now: float | None = None) -> str:
    return time.strftime("%Y%m%d%H", time.gmtime(now or time.time()))


def _add(key: str, amount: int) -> None:
    try:
        cache.add(key, 0, 2 * 3600)
        cache.incr(key, amount)
    except Exception as exc:  # a figure lost; the work goes on
        log.debug("pressure figure %s not kept: %s", key, type(exc).__name__)


def note_rate_limit_wait(seconds: float) -> None:
    if seconds > 0:
        _add(f"ops:rl_wait_ms:{_hour()}", int(seconds * 1000))


def note_rate_limited() -> None:
    _add(f"ops:rl_429:{_hour()}", 1)


def rate_limits_this_hour() -> tuple[float, int]:
    hour = _hour()
    return (cache.get(f"ops:rl_wait_ms:{hour}") or 0) / 1000, cache.get(f"ops:rl_429:{hour}") or 0


def note_inbox_refusal() -> None:
    """The ingest server refused a delivery it could not store (503): at most one cache
    write per process every ``REFUSAL_NOTE_EVERY`` seconds, however many are refused."""
    global _last_refusal_note
    now = time.monotonic()
    if now - _last_refusal_note < REFUSAL_NOTE_EVERY:
        return
    _last_refusal_note = now
    try:
        cache.set("ops:inbox_refused_at", time.time(), 24 * 3600)
    except Exception as exc:
        log.debug("inbox refusal not noted: %s", type(exc).__name__)


def inbox_refused_at() -> float | None:
    return cache.get("ops:inbox_refused_at")
