"""Keeping every balance fresh within Feishu's quota, stalest first, on every worker.

Feishu sends ``assets_update_v1`` when a balance changes, which keeps a balance fresh as it
changes; the pull is the safety net for events lost or never sent (a deactivated account
gets none). ``get_account_assets`` allows 10 calls a second per app and tenant
(docs/feishu.md §4): about 34,900 accounts an hour, so 200,000 accounts take about 5.7 hours
to pull once, whatever the code does. What the code decides is the order and the use of the
quota:

- every minute the schedule claims the accounts one minute of quota can pull, those whose
  balance was confirmed longest ago first (never-confirmed ones before all), skipping any
  confirmed in the last ``FRESH``, and queues them in batches;
- the workers pull the batches in parallel, all paced by the client's shared rate limiter,
  so the quota stays busy without a 429 however many workers run;
- a claim lasts ``CLAIM``: accounts a lost worker held are claimed again after it; a pull
  releases its claim when done.

An error every call would meet (configuration, authentication, the monthly quota) ends a
batch instead of failing each account in turn; the next minute tries again.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hireops.feishu.ratelimit import QUOTAS
from hireops.tenants.gate import unavailable_tenant_keys

from .balances import balances_pull_each
from .models import AccountStatus, ReferralAccount

ENDPOINT = "hire.referral_account.get_account_assets"
TICK = timedelta(minutes=1)  # how often the schedule runs (its default interval)
FRESH = timedelta(minutes=10)
CLAIM = timedelta(minutes=5)
BATCH = 25
SAFETY = 0.97  # the client's limiter paces at 97 % of the quota; claim no more than it can send


def per_tick() -> int:
    """How many accounts one tick of quota can pull."""
    return max(1, round(TICK.total_seconds() * SAFETY / QUOTAS[ENDPOINT].interval()))


def pullable():
    """Registered accounts, except those of a tenant that stopped or uninstalled the app
    (store apps: no call goes there; their balances stay as last seen)."""
    accounts = ReferralAccount.objects.filter(
        account_id__isnull=False, status__in=[AccountStatus.ACTIVE, AccountStatus.DEACTIVATED]
    )
    stopped = unavailable_tenant_keys()
    return accounts.exclude(tenant_key__in=stopped) if stopped else accounts


def claim_due(limit: int) -> list[int]:
    """Claim up to ``limit`` accounts due for a pull: never confirmed first, then the oldest."""
    now = timezone.now()
    with transaction.atomic():
        due = pullable().filter(Q(pull_claimed_until__isnull=True) | Q(pull_claimed_until__lt=now))
        never = due.filter(balance_synced_at__isnull=True).order_by("pk")
        stale = due.filter(balance_synced_at__lt=now - FRESH).order_by("balance_synced_at", "pk")
        pks = []
        for candidates in (never, stale):  # two index scans (account_balance_age_idx), no sort
            if len(pks) < limit:
                locked = candidates.select_for_update(skip_locked=True).values_list("pk", flat=True)
                pks += list(locked[: limit - len(pks)])
        ReferralAccount.objects.filter(pk__in=pks).update(pull_claimed_until=now + CLAIM)
    return pks


def pulls_schedule() -> int:
    """The scheduled tick: claim what one tick of quota can pull and queue it in batches."""
    from .tasks import pull_balance_batch

    pks = claim_due(per_tick())
    for i in range(0, len(pks), BATCH):
        pull_balance_batch.delay(pks[i : i + BATCH])
    return len(pks)


def pull_batch(pks: list[int]) -> tuple[int, int]:
    """Pull each account of a batch; returns (pulled, failed)."""

    def release(pk):
        ReferralAccount.objects.filter(pk=pk).update(pull_claimed_until=None)

    try:
        return balances_pull_each(pks, after_each=release)
    finally:  # whatever was not pulled is free for the next tick at once
        ReferralAccount.objects.filter(pk__in=pks, pull_claimed_until__isnull=False).update(
            pull_claimed_until=None
        )
