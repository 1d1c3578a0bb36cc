"""Sliding-window rate limits, per API, per app, per tenant (docs/feishu.md §1.3, §2, §4, §14.4).

A limit ``(n, w)`` means: at most ``n`` accepted requests in any window of ``w``
seconds ending now. An API with two limits (custom fields: 50/s and 1000/min)
is throttled when either one is full. Rejected requests are not counted, so a
client that backs off for ``x-ogw-ratelimit-reset`` seconds gets through.

Windows are measured on real (monotonic) time, not the settable sandbox clock
(clock.py): a limit is about how fast requests really arrive, clients really sleep
the reset header out, and the benchmarks measure real throughput against it.
Advancing the clock to expire a token must not empty or fill a window.
"""

import math
import threading
import time
from collections import deque

# API name -> [(limit, window seconds)]. Names are the route names in hire_api.
LIMITS: dict[str, list[tuple[int, float]]] = {
    "eco_account_custom_field.create": [(50, 1.0), (1000, 60.0)],
    "eco_account_custom_field.batch_update": [(50, 1.0), (1000, 60.0)],
    "eco_account_custom_field.batch_delete": [(50, 1.0), (1000, 60.0)],
    "eco_background_check.update_progress": [(50, 1.0), (1000, 60.0)],
    "eco_background_check.update_result": [(50, 1.0), (1000, 60.0)],
    "eco_background_check.cancel": [(50, 1.0), (1000, 60.0)],
    "eco_exam.login_info": [(50, 1.0), (1000, 60.0)],
    "eco_exam.update_result": [(50, 1.0), (1000, 60.0)],
    **{
        f"{api}.{op}": [(50, 1.0), (1000, 60.0)]
        for api in ("eco_background_check_package", "eco_background_check_custom_field", "eco_exam_paper")
        for op in ("create", "batch_update", "batch_delete")
    },
    "tenant.query": [(50, 1.0), (1000, 60.0)],  # docs/feishu.md §7.7
    "referral_account.create": [(100, 60.0)],
    "referral_account.get_account_assets": [(10, 1.0)],
    "referral_account.withdraw": [(100, 60.0)],
    "referral_account.reconciliation": [(100, 60.0)],
    "referral_account.enable": [(10, 1.0)],
    "referral_account.deactivate": [(100, 60.0)],
    # docs/feishu.md §4.1: create's 10/s is documented, delete's (also 10/s) is UNCONFIRMED.
    "external_referral_reward.create": [(10, 1.0)],
    "external_referral_reward.delete": [(10, 1.0)],
    # Messages from the app (im_api.py, docs/feishu.md §18): 50/s and 1000/min per app and
    # tenant; to one person, 5 a second (answered 230020, not 429).
    "im.message.create": [(50, 1.0), (1000, 60.0)],
    "im.message.to_person": [(5, 1.0)],
    # Custom bot webhooks: per bot (bot_api.py), "100 per minute and 5 per second" (§14.4).
    "bot.hook": [(5, 1.0), (100, 60.0)],
}


class Throttled(Exception):
    def __init__(self, limit: int, reset: int):
        super().__init__(f"rate limited: {limit} per window, retry in {reset}s")
        self.limit = limit
        self.reset = reset


class RateLimiter:
    def __init__(self, limits=None, clock=time.monotonic, minute: float = 60.0):
        """``minute``: the seconds a per-minute window lasts (a minute, but in the test suite,
        whose client paces to the same shortened minute: settings.FEISHU_QUOTA_MINUTE)."""
        given = LIMITS if limits is None else limits
        self.limits = {
            api: [(limit, minute if window == 60.0 else window) for limit, window in windows]
            for api, windows in given.items()
        }
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple, deque] = {}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def hit(self, api: str, app_id: str, tenant_key: str, at: float | None = None) -> None:
        """Record one request, arrived ``at`` (this clock; default now), or raise Throttled
        (without recording it)."""
        windows = self.limits.get(api)
        if not windows:
            return
        now = self.clock() if at is None else at
        longest = max(w for _, w in windows)
        with self._lock:
            hits = self._hits.setdefault((api, app_id, tenant_key), deque())
            while hits and hits[0] <= now - longest:
                hits.popleft()
            worst = None
            for limit, window in windows:
                in_window = [t for t in hits if t > now - window]
                if len(in_window) >= limit:
                    # The slot frees when the oldest request still counted leaves the window.
                    frees_at = in_window[len(in_window) - limit] + window
                    reset = max(1, math.ceil(frees_at - now))
                    if worst is None or reset > worst[1]:
                        worst = (limit, reset)
            if worst:
                raise Throttled(*worst)
            hits.append(now)
