"""A store app's "Needs attention", grouped by tenant: which customers the open items are
about, the tenants with most first, each count linked to its list filtered to the tenant.

Items say which rows they count (``dashboard.Item.per_tenant``); only items with something
open are grouped, all in one query with the tenants' names. A self-built app has one tenant: nothing to group.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.urls import reverse

from .mode import store_app
from .models import Tenant

SHOWN = 20


@dataclass
class TenantAttention:
    tenant_key: str
    name: str = ""
    url: str = ""  # the tenant's page
    items: list[tuple[str, int, str]] = field(default_factory=list)  # label, count, link

    @property
    def total(self) -> int:
        return sum(n for _label, n, _url in self.items)


def by_tenant(items) -> tuple[list[TenantAttention], int]:
    """The tenants with open items (at most ``SHOWN``), and how many more there are."""
    if not store_app():
        return [], 0
    open_items = [item for item in items if item.per_tenant is not None and item.count]
    counts, tenants = _read(open_items)
    found: dict[str, TenantAttention] = {}
    for index, key, n in counts:
        if n:
            item = open_items[index]
            link = _filtered(item.tenant_url or item.url, key)
            found.setdefault(key, TenantAttention(key)).items.append((item.label, n, link))
    ranked = sorted(found.values(), key=lambda t: (-t.total, t.tenant_key))
    for row in ranked:
        if row.tenant_key in tenants:
            name, pk = tenants[row.tenant_key]
            row.name, row.url = name, reverse("admin:tenants_tenant_change", args=[pk])
    return ranked[:SHOWN], max(len(ranked) - SHOWN, 0)


def _read(items) -> tuple[list[tuple[int, str, int]], dict[str, tuple[str, int]]]:
    """(item's index, tenant, count) of every item, and each tenant's (name, pk): in one query
    (UNION ALL) of the items' rows grouped by tenant and of the tenants of counts the items
    already know (``per_tenant`` given as a dict)."""
    counts = [(i, key, n) for i, item in enumerate(items) if isinstance(item.per_tenant, dict)
              for key, n in item.per_tenant.items()]  # fmt: skip
    parts = [
        item.per_tenant.order_by()
        .annotate(item_index=_int(i), tenant_name=_of_tenant("name", item.tenant_field))
        .annotate(tenant_pk=_of_tenant("pk", item.tenant_field))
        .values_list("item_index", item.tenant_field, "tenant_name", "tenant_pk")
        .annotate(n=Count("pk"))
        for i, item in enumerate(items)
        if not isinstance(item.per_tenant, dict)
    ]
    if counts:  # the names of the tenants only a dict counted
        named = Tenant.objects.filter(tenant_key__in={key for _i, key, _n in counts}).order_by()
        named = named.annotate(item_index=_int(-1), tenant_name=F("name"), tenant_pk=F("pk"))
        parts.append(
            named.values_list("item_index", "tenant_key", "tenant_name", "tenant_pk").annotate(n=_int(0))
        )
    if not parts:
        return [], {}
    tenants = {}
    for index, key, name, pk, n in parts[0].union(*parts[1:], all=True):
        if pk is not None:
            tenants[key] = (name, pk)
        if index >= 0:
            counts.append((index, key, n))
    return sorted(counts), tenants


def _int(value: int) -> Value:
    return Value(value, output_field=IntegerField())


def _of_tenant(column: str, tenant_field: str) -> Subquery:
    return Subquery(Tenant.objects.filter(tenant_key=OuterRef(tenant_field)).values(column)[:1])


def _filtered(url: str, tenant_key: str) -> str:
    if not url or not tenant_key:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"tenant_key": tenant_key})
