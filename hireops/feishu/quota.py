"""Feishu's monthly API call quota (99991403): once it is used up, no call is sent until it renews.

docs/feishu.md §11: a self-built app on Feishu's free edition gets a monthly quota of API
calls per tenant; past it every call is answered 99991403 (with HTTP 429, which it shares
with the per-second rate limit, so only the code tells them apart) until the 1st of the
next month. Retrying would only burn workers and fill logs, so the first 99991403 stops
every process's calls for the app until then: the stop lives in the shared cache, and the
client refuses locally, without a request, while it lasts. Staff see it on the dashboard;
``manage.py feishu_quota --resume`` lifts it early (e.g. after the quota was raised).

Hire, authentication and event APIs are documented as exempt from the quota, so this should
not happen for hireops' own calls; if Feishu answers it anyway, we believe the answer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .shapes import Cache

# UNCONFIRMED which clock Feishu renews the quota by; China time is where the 1st starts first,
# and stopping a few hours too long loses nothing (the stop can be lifted by hand).
RENEWAL_ZONE = ZoneInfo("Asia/Shanghai")


def next_renewal(now: float) -> float:
    """The 1st of the next month, 00:00 China time, as a Unix time."""
    local = datetime.fromtimestamp(now, RENEWAL_ZONE)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1).timestamp()


class MonthlyQuota:
    """The stop for one app (keyed by base URL and app id, like its tokens)."""

    def __init__(self, cache: Cache, base_url: str, app_id: str, clock: Callable[[], float] = time.time):
        scope = hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:12]
        self.key = f"feishu:quota_stop:{scope}:{app_id}"
        self._cache, self._clock = cache, clock

    def stopped_until(self) -> float | None:
        until: float | None = self._cache.get(self.key)
        return until if until and until > self._clock() else None

    def stop(self) -> float:
        now = self._clock()
        until = next_renewal(now)
        self._cache.set(self.key, until, max(1, int(until - now)))
        return until

    def resume(self) -> None:
        self._cache.delete(self.key)
