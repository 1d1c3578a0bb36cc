"""A store app's "Needs attention", grouped by tenant: which customers the open items are
about, the tenants with most first, each count linked to its list filtered to the tenant.

Items say which rows they count (``dashboard.Item.per_tenant``); only items with something
open are grouped, all in one query with the tenants' names. A self-built app has one tenant: nothing to group.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connections
from django.db.models import F
from django.urls import reverse

from hireops.core.admin.dashboard import CAP

from .mode import store_app
from .models import Tenant

SHOWN = 20


@dataclass
class TenantAttention:
    tenant_key: str
    name: str = ""
    url: str = ""  # the tenant's page
    items: list[tuple[str, int | str, str]] = field(default_factory=list)  # label, count ("n+"), link

    @property
    def total(self) -> int:
        return sum(_number(n) for _label, n, _url in self.items)


def by_tenant(items) -> tuple[list[TenantAttention], int]:
    """The tenants with open items (at most ``SHOWN``), and how many more there are."""
    if not store_app():
        return [], 0
    open_items = [item for item in items if item.per_tenant is not None and item.count]
    counts, tenants = _read(open_items)
    found: dict[str, list[tuple[int, int | str]]] = {}
    for index, key, n in counts:
        if n:
            found.setdefault(key, []).append((index, n))
    ranked = sorted(found, key=lambda key: (-sum(_number(n) for _i, n in found[key]), key))
    shown = []
    for key in ranked[:SHOWN]:  # links only for the rows shown: there may be a thousand
        row = TenantAttention(key)
        for index, n in found[key]:
            item = open_items[index]
            row.items.append((item.label, n, _filtered(item.tenant_url or item.url, key)))
        if key in tenants:
            name, pk = tenants[key]
            row.name, row.url = name, reverse("admin:tenants_tenant_change", args=[pk])
        shown.append(row)
    return shown, len(ranked) - len(shown)


def _number(n: int | str) -> int:
    return int(str(n).rstrip("+"))


def _read(items) -> tuple[list[tuple[int, str, int | str]], dict[str, tuple[str, int]]]:
    """(item's index, tenant, count) of every item, and each tenant's (name, pk), in one query:
    each item's rows grouped by tenant (UNION ALL), beside the tenants of counts the items
    already know (``per_tenant`` given as a dict), joined to the tenants table once grouped.

    Each item's rows are read up to ``CAP`` + 1, like the dashboard's own counts: a backlog
    of a hundred thousand rows is not grouped on every view. Where an item has more (its
    count says "1,000+"), its tenants' counts are of the rows read, shown as "n+"."""
    counts = [(i, key, n) for i, item in enumerate(items) if isinstance(item.per_tenant, dict)
              for key, n in item.per_tenant.items()]  # fmt: skip
    parts = [
        _rows(item.per_tenant, item.tenant_field, CAP + 1)
        for item in items
        if not isinstance(item.per_tenant, dict)
    ]
    indexes = [i for i, item in enumerate(items) if not isinstance(item.per_tenant, dict)]
    if counts:  # the names of the tenants only a dict counted
        parts.append(_rows(Tenant.objects.filter(tenant_key__in={key for _i, key, _n in counts})))
        indexes.append(-1)
    if not parts:
        return [], {}
    connection = connections[parts[0].db]
    grouped, params = [], []
    for index, part in zip(indexes, parts, strict=True):
        sql, part_params = part.query.sql_with_params()
        grouped.append(
            f"SELECT {int(index)} AS item_index, s.row_tenant, COUNT(*) AS n "  # noqa: S608
            f"FROM ({sql}) AS s GROUP BY s.row_tenant"
        )
        params.extend(part_params)
    table = connection.ops.quote_name(Tenant._meta.db_table)
    # Only the ORM's own compiled SQL goes into the statement; every value stays a parameter.
    statement = (
        "SELECT c.item_index, c.row_tenant, c.n, t.name, t.id "  # noqa: S608
        f"FROM ({' UNION ALL '.join(grouped)}) AS c LEFT JOIN {table} AS t ON t.tenant_key = c.row_tenant"
    )
    tenants = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for index, key, n, name, pk in cursor.fetchall():
            if pk is not None:
                tenants[key] = (name, pk)
            if index >= 0:
                counts.append((index, key, f"{n}+" if isinstance(items[index].count, str) else n))
    return sorted(counts, key=lambda c: (c[0], c[1])), tenants


def _rows(queryset, tenant_field: str = "tenant_key", limit: int | None = None):
    """Each row's tenant (as row_tenant), at most ``limit`` rows."""
    rows = queryset.order_by().annotate(row_tenant=F(tenant_field)).values_list("row_tenant")
    return rows[:limit] if limit else rows


def _filtered(url: str, tenant_key: str) -> str:
    if not url or not tenant_key:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"tenant_key": tenant_key})
