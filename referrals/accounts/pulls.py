"""Keeping every balance fresh within each tenant's quota, stalest first, on every worker.

Feishu sends ``assets_update_v1`` when a balance changes, which keeps a balance fresh as it
changes; the pull is the safety net for events lost or never sent (a deactivated account
gets none). ``get_account_assets`` allows 10 calls a second per app and tenant
(docs/feishu.md §4, §7.5): about 34,900 accounts an hour for one tenant, so a self-built
app's 200,000 accounts take about 5.7 hours to pull once, whatever the code does. A store
app has that budget in every customer tenant: 1,000 tenants of 200 accounts are pulled as
fast as the workers go. What the code decides is the order and the use of the quotas:

- every minute the schedule claims, per tenant, the accounts one minute of that tenant's
  quota can pull, those whose balance was confirmed
  longest ago first (never-confirmed ones before all), skipping any confirmed in the last
  ``FRESH``; tenants share the tick fairly and are interleaved (hireops.tenants.claims), and
  no more are out at once than the workers pull in a minute or two (``workers_pace``), so
  they never wait for the next tick and a claim outlives its wait in the queue;
- the workers pull the batches in parallel, each call paced by the client's limiter on its
  tenant's budget, shared through Redis, so every quota stays busy without a 429 however
  many workers run;
- a claim lasts ``CLAIM``: accounts a lost worker held are claimed again after it; a pull
  releases its claim when done, and a batch skips the accounts whose claim is released
  already (a batch delivered twice pulls nothing twice).

An error every call would meet (configuration, authentication, the monthly quota) ends a
batch instead of failing each account in turn; the next minute tries again.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from hireops.core.task_names import task_named
from hireops.feishu import get_client
from hireops.tenants.claims import claim_by_tenant
from hireops.tenants.gate import unavailable_tenant_keys

from .balances import balances_pull_each
from .models import AccountStatus, ReferralAccount

ENDPOINT = "hire.referral_account.get_account_assets"
TICK = timedelta(minutes=1)  # how often the schedule runs (its default interval)
FRESH = timedelta(minutes=10)
CLAIM = timedelta(minutes=5)
BATCH = 25


def per_tick() -> int:
    """How many accounts one tick of quota can pull: no more than the client's limiter, at its
    spacing, can send."""
    return max(1, round(TICK.total_seconds() / get_client().limiter.interval(ENDPOINT)))


def pullable():
    """Registered accounts, except those of a tenant that stopped or uninstalled the app
    (store apps: no call goes there; their balances stay as last seen)."""
    accounts = ReferralAccount.objects.filter(
        account_id__isnull=False, status__in=[AccountStatus.ACTIVE, AccountStatus.DEACTIVATED]
    )
    stopped = unavailable_tenant_keys()
    return accounts.exclude(tenant_key__in=stopped) if stopped else accounts


def workers_pace(now) -> int:
    """How many accounts may be claimed and not pulled yet: twice what was confirmed in the
    last tick (the workers' pace, events included), and at least ``BALANCE_PULLS_PER_TICK``.
    The queue then holds a minute or two of the workers' pulls however many workers run:
    enough that they never wait for the next tick, and pulled well before a claim runs out."""
    confirmed = pullable().filter(balance_synced_at__gte=now - TICK).count()
    return max(settings.BALANCE_PULLS_PER_TICK, 2 * confirmed)


def claim_due(limit: int | None = None, most: int | None = None) -> list[int]:
    """Claim accounts due for a pull: per tenant up to ``limit`` (one tick of its quota),
    never confirmed first, then the oldest; tenants interleaved, and no more than ``most``
    claimed and not pulled yet in all."""
    now = timezone.now()
    limit = per_tick() if limit is None else limit
    most = workers_pace(now) if most is None else most
    claimed = Q(pull_claimed_until__gte=now)
    due = ~claimed & (Q(balance_synced_at__isnull=True) | Q(balance_synced_at__lt=now - FRESH))
    with transaction.atomic():
        counts = list(
            pullable()
            .values_list("tenant_key")
            .annotate(out=Count("pk", filter=claimed), due=Count("pk", filter=due))
            .order_by()
        )
        room = {tenant: min(n, limit) for tenant, _, n in counts}
        out = sum(n for _, n, _ in counts)
        candidates = pullable().filter(due)
        # Per tenant two index scans in account_pull_order_idx's order, no sort (ordering the
        # never-confirmed by their NULL too lets PostgreSQL see that the index holds that order).
        never = candidates.filter(balance_synced_at__isnull=True).order_by("balance_synced_at", "pk")
        stale = candidates.filter(balance_synced_at__isnull=False).order_by("balance_synced_at", "pk")
        pks = claim_by_tenant([never, stale], room, most - out)
        ReferralAccount.objects.filter(pk__in=pks).update(pull_claimed_until=now + CLAIM)
    return pks


def pulls_schedule() -> int:
    """The scheduled tick: claim what a tick of each tenant's quota can pull, as far as the
    workers keep up, and queue it in batches (tenants interleaved within each)."""
    pull_balance_batch = task_named("referrals.pull_balance_batch")

    pks = claim_due(per_tick())
    for i in range(0, len(pks), BATCH):
        pull_balance_batch.delay(pks[i : i + BATCH])
    return len(pks)


def pull_batch(pks: list[int]) -> tuple[int, int]:
    """Pull each account of a batch; returns (pulled, failed). An account whose claim was
    released already is skipped: a batch that held it pulled it (this batch delivered twice,
    or queued again after its claim ran out)."""

    def release(pk):
        ReferralAccount.objects.filter(pk=pk).update(pull_claimed_until=None)

    claimed = ReferralAccount.objects.filter(pk__in=pks, pull_claimed_until__isnull=False)
    held = set(claimed.values_list("pk", flat=True))
    try:
        return balances_pull_each([pk for pk in pks if pk in held], after_each=release)
    finally:  # whatever was not pulled is free for the next tick at once
        ReferralAccount.objects.filter(pk__in=pks, pull_claimed_until__isnull=False).update(
            pull_claimed_until=None
        )
