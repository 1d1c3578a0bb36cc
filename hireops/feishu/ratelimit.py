"""Client-side pacing so that Feishu never has to answer 429.

Quotas are Feishu's documented ones (docs/feishu.md §2, §4) and apply per API, per app,
per tenant, so the limiter key is ``(app_id, tenant_key, endpoint)``; every process of the
back-office shares it through the coordinator (Redis or lock files).

Why even spacing rather than a token bucket: Feishu's windows are "N per second" and
"M per minute" and it does not say whether they are fixed or sliding, nor where a window
starts. A bucket that allows a burst of 50 can put 50 calls into one Feishu second and
then 50 more into the next, overrunning a 1000/min window after 20 s, or, with a sliding
window, any window that straddles two bursts. Spacing calls ``interval`` apart, where
``interval`` is the tightest window's spacing (1000/min and 50/s → max(60/1000, 1/50) =
60 ms), satisfies every window of every alignment at once.

Why a safety factor (default 0.97 → pace at 97 % of quota): calls leave on schedule but
arrive with network jitter; two calls scheduled ``interval`` apart can land closer
together. With 10/s the slack is 1/9.7 - 1/10 ≈ 3 ms per call, ≈ 31 ms over a window,
enough to absorb ordinary jitter while sustained throughput stays ≥ 95 % of the quota.
A call that leaves later than its slot (a thread that woke late on a busy machine) moves
the slots not yet taken by as much (``sent_late``): the slack is then not spent on it. If
Feishu answers 429 anyway, ``push_back`` moves the shared schedule past
``x-ogw-ratelimit-reset`` so every process waits, not only the one that saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .coordination import Coordinator


@dataclass(frozen=True)
class Quota:
    per_second: int | None = None
    per_minute: int | None = None

    def interval(self, minute: float = 60.0) -> float:
        """Seconds between calls at exactly 100 % of the tightest window (``minute``: the
        seconds of a per-minute window, which only the tests shorten, with the sandbox's)."""
        spacings = []
        if self.per_second:
            spacings.append(1.0 / self.per_second)
        if self.per_minute:
            spacings.append(minute / self.per_minute)
        return max(spacings, default=0.0)


_CUSTOM_FIELDS = Quota(per_second=50, per_minute=1000)
_ECO = Quota(per_second=50, per_minute=1000)  # eco orders, the same tier

# Endpoint names are the ones hire.py passes to FeishuClient.request(endpoint=...).
QUOTAS: dict[str, Quota] = {
    "hire.eco_account_custom_field.create": _CUSTOM_FIELDS,
    "hire.eco_account_custom_field.batch_update": _CUSTOM_FIELDS,
    "hire.eco_account_custom_field.batch_delete": _CUSTOM_FIELDS,
    "hire.referral_account.create": Quota(per_minute=100),
    "hire.referral_account.get_account_assets": Quota(per_second=10),
    "hire.referral_account.withdraw": Quota(per_minute=100),
    "hire.referral_account.reconciliation": Quota(per_minute=100),
    "hire.referral_account.enable": Quota(per_second=10),
    "hire.referral_account.deactivate": Quota(per_minute=100),
    # External referral rewards (§4.1): create 10/s (DOC); delete 10/s (3P only, UNCONFIRMED).
    "hire.external_referral_reward.create": Quota(per_second=10),
    "hire.external_referral_reward.delete": Quota(per_second=10),
    # Eco orders (docs/feishu.md §8.1, §9): 50/s and 1000/min per app and tenant.
    "hire.eco_background_check.update_progress": _ECO,
    "hire.eco_background_check.update_result": _ECO,
    "hire.eco_background_check.cancel": _ECO,
    "hire.eco_exam.login_info": _ECO,
    "hire.eco_exam.update_result": _ECO,
    # Catalogues (§8.2, §8.3, §9.1): the same tier.
    **{
        f"hire.{api}.{op}": _ECO
        for api in ("eco_background_check_package", "eco_background_check_custom_field", "eco_exam_paper")
        for op in ("create", "batch_update", "batch_delete")
    },
    # Tenant info (§7.7): 50/s and 1000/min.
    "tenant.tenant.query": Quota(per_second=50, per_minute=1000),
    # Messages from the app (§18): 50/s and 1000/min per app and tenant; to one person at most
    # 5 a second, which the few messages a person is sent never approach.
    "im.message.create": Quota(per_second=50, per_minute=1000),
    # Auth endpoints have no documented quota; they are single-flight and cached instead.
}


class RateLimiter:
    def __init__(
        self,
        coordinator: Coordinator,
        *,
        safety: float = 0.97,
        max_wait: float = 30.0,
        quotas: dict[str, Quota] | None = None,
        minute: float = 60.0,
    ):
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self.coordinator = coordinator
        self.safety = safety
        self.max_wait = max_wait
        self.quotas = QUOTAS if quotas is None else quotas
        self.minute = minute

    @staticmethod
    def key(app_id: str, tenant_key: str | None, endpoint: str) -> str:
        return f"{app_id}:{tenant_key or '-'}:{endpoint}"

    def interval(self, endpoint: str) -> float:
        quota = self.quotas.get(endpoint)
        return quota.interval(self.minute) / self.safety if quota else 0.0

    def acquire(self, app_id: str, tenant_key: str | None, endpoint: str) -> float:
        """Reserve a slot; return the seconds to sleep before sending.

        Raises ``ReservationTooFar`` when the queue is longer than ``max_wait``: better a
        retryable error for the task than a worker blocked for minutes.
        """
        interval = self.interval(endpoint)
        if not interval:
            return 0.0
        return self.coordinator.reserve(self.key(app_id, tenant_key, endpoint), interval, self.max_wait)

    def push_back(self, app_id: str, tenant_key: str | None, endpoint: str, delay: float) -> None:
        if endpoint in self.quotas and delay > 0:
            self.coordinator.push_back(self.key(app_id, tenant_key, endpoint), delay)

    def sent_late(self, app_id: str, tenant_key: str | None, endpoint: str, late: float) -> None:
        """A call left ``late`` seconds after its slot (its thread descheduled under load):
        the slots not taken yet move as much later, so that the calls after it keep their
        spacing from when it really left. Otherwise the ones reserved behind it, sent on time,
        close up on it, and a sliding window of Feishu's can count one call too many."""
        if endpoint in self.quotas and late > 0:
            self.coordinator.shift(self.key(app_id, tenant_key, endpoint), late)
