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

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL


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
    if not shares:
        return []
    together = connections[scans[0].db].vendor == "postgresql"
    claimed = (_claim_together if together else _claim_each)(scans, shares)
    return interleave([claimed[tenant] for tenant in shares])


def _claim_each(scans: Sequence[QuerySet], shares: dict[str, int]) -> dict[str, list[int]]:
    """A query per tenant and scan (SQLite: small data)."""
    claimed: dict[str, list[int]] = {}
    for tenant, share in shares.items():
        pks = claimed[tenant] = []
        for scan in scans:
            if len(pks) >= share:
                break
            locked = scan.filter(tenant_key=tenant).select_for_update(skip_locked=True, of=("self",))
            pks += locked.values_list("pk", flat=True)[: share - len(pks)]
    return claimed


# Django writes a slice's LIMIT into the SQL as a number: this one is replaced by each tenant's share.
_SHARE_SENTINEL = 2_147_483_629


def _claim_together(scans: Sequence[QuerySet], shares: dict[str, int]) -> dict[str, list[int]]:
    """One query per scan for every tenant at once (PostgreSQL): the scan runs as a LATERAL
    subquery for each (tenant, share) pair, each tenant's rows read in the scan's index order
    up to its share, locked, skipping locked ones. A query per tenant took 1.4-3.8 s a tick
    over 1,000 tenants, with the rows already claimed held locked meanwhile."""
    claimed: dict[str, list[int]] = {tenant: [] for tenant in shares}
    for scan in scans:
        wanted = {t: share - len(claimed[t]) for t, share in shares.items() if share > len(claimed[t])}
        if not wanted:
            break
        sql, params = _for_each_tenant(scan, wanted)
        with connections[scan.db].cursor() as cursor:
            cursor.execute(sql, params)
            for tenant, pk in cursor.fetchall():
                claimed[tenant].append(pk)
    return claimed


def _for_each_tenant(scan: QuerySet, wanted: dict[str, int]) -> tuple[str, list]:
    one_tenant = scan.filter(tenant_key=RawSQL('"wanted"."tenant"', ()))
    locked = one_tenant.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
    sql, params = locked[:_SHARE_SENTINEL].query.sql_with_params()
    limit = f"LIMIT {_SHARE_SENTINEL}"
    if sql.count(limit) != 1:  # Django writes LIMIT otherwise: fail loudly, never claim wrongly
        raise RuntimeError(f"cannot set each tenant's share in: {sql}")
    sql = sql.replace(limit, 'LIMIT "wanted"."share"')
    # Django's compiled SQL, its values still parameters, and the tenants' keys as parameters.
    wanted_rows = 'unnest(%s::text[], %s::int[]) AS "wanted" ("tenant", "share")'
    each = f'LATERAL ({sql}) AS "rows" ("pk")'
    query = f'SELECT "wanted"."tenant", "rows"."pk" FROM {wanted_rows} CROSS JOIN {each}'  # noqa: S608
    return query, [list(wanted), list(wanted.values()), *params]
