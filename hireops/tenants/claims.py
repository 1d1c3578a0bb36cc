"""Handing work to the workers tenant by tenant, each tenant within its own Feishu quota.

Feishu counts its limits per API, per app and per tenant (docs/feishu.md §1.3, §7.5), and the
client's limiter keys its budgets the same way (hireops/feishu/ratelimit.py). A schedule that
feeds the workers (the payout dispatcher, the balance pull) therefore claims work per tenant:
no tenant more than its ``room`` (one tick of its own quota, less what it still has out), the
tick's total shared max-min fairly, and the claimed rows interleaved tenant by tenant, so the
workers keep every tenant's quota busy and a tenant with much to do never starves one with
little. Which tenant gets a remainder too small to share rotates from tick to tick.
"""

import time
from collections.abc import Sequence
from itertools import chain, zip_longest

from django.db.models import QuerySet


def fair_shares(room: dict[str, int], most: int, start: int = 0) -> dict[str, int]:
    """Split ``most`` over the tenants: each its ``room`` or an equal share, whichever is less,
    what the small ones leave going to the others. The tenants are taken in key order rotated
    by ``start``; that order decides who gets one more when the rest does not divide."""
    keys = sorted(t for t, n in room.items() if n > 0)
    if keys:
        start %= len(keys)
        keys = keys[start:] + keys[:start]
    shares = dict.fromkeys(keys, 0)
    left, wanting = max(0, most), keys
    while left and wanting:
        level = max(1, left // len(wanting))
        for tenant in wanting:
            give = min(level, room[tenant] - shares[tenant], left)
            shares[tenant] += give
            left -= give
        wanting = [t for t in wanting if shares[t] < room[t]]
    return {t: n for t, n in shares.items() if n}


def interleave(per_tenant: Sequence[list]) -> list:
    """One of each tenant's in turn: [a1, b1, c1, a2, b2, a3, …]."""
    return [x for x in chain.from_iterable(zip_longest(*per_tenant)) if x is not None]


def claim_by_tenant(
    scans: Sequence[QuerySet], room: dict[str, int], most: int, *, start: int | None = None
) -> list[int]:
    """The primary keys of up to ``most`` due rows, at most ``room[tenant]`` of each tenant,
    interleaved tenant by tenant. ``scans``: the due rows as ordered querysets, read one after
    the other (e.g. never done, then the oldest). Call inside a transaction: the rows are
    locked until it ends, and rows a concurrent tick holds are skipped."""
    start = int(time.time() // 60) if start is None else start  # a new rotation every minute
    shares = fair_shares(room, most, start)
    per_tenant = []
    for tenant, share in shares.items():
        pks: list[int] = []
        for scan in scans:
            if len(pks) >= share:
                break
            locked = scan.filter(tenant_key=tenant).select_for_update(skip_locked=True, of=("self",))
            pks += locked.values_list("pk", flat=True)[: share - len(pks)]
        per_tenant.append(pks)
    return interleave(per_tenant)
