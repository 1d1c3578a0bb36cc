"""Reading the orders: background checks and exams in one list, by when they last changed, and
one order by its id."""

import datetime as dt

from django.db.models import Q
from ninja import Query, Router

from hireops.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Page
from hireops.api.site import operation, register

from .schemas import (
    _ID,
    BGC,
    EXAM,
    FEISHU_ID,
    MODEL,
    STATES,
    Masker,
    OrderFilters,
    OrderId,
    OrderOut,
    _aware,
    _load,
    one_order,
    order_out,
)
from .scopes import READ

router = Router(tags=["Orders"])

CURSOR = (("updated_at", dt.datetime), ("type", str), ("pk", int))
PER_TENANT_SCANS = 20  # a key limited to more tenants reads them in one scan, sorted


def _tenant_scans(filters: OrderFilters, tenants) -> list:
    """The tenants to scan one by one (None: all in one scan; [] : nothing is visible)."""
    if filters.tenant is not None:
        return [filters.tenant] if not tenants or filters.tenant in tenants else []
    if tenants and len(tenants) <= PER_TENANT_SCANS:
        return list(tenants)
    return [None]


def _keys(kind: str, filters: OrderFilters, tenants, after, limit: int) -> list:
    """One table's next ``limit + 1`` keys (updated_at, kind, pk) after the cursor: an index-only
    range scan of (updated_at, id), or of (tenant_key | state, updated_at, id) per tenant of the
    key or for the state asked, bounded below by the cursor's time."""
    rows = MODEL[kind].objects.all()
    if filters.state is not None:
        rows = rows.filter(state=filters.state.value)
    if filters.feishu_id is not None:
        rows = rows.filter(**{FEISHU_ID[kind]: filters.feishu_id})
    if filters.updated_after is not None:
        rows = rows.filter(updated_at__gt=_aware(filters.updated_after))
    if after is not None:
        at, after_kind, after_pk = after
        if kind > after_kind:  # this table's rows at the cursor's time come after it
            rows = rows.filter(updated_at__gte=at)
        elif kind < after_kind:
            rows = rows.filter(updated_at__gt=at)
        else:  # (updated_at, pk) > (at, after_pk); the first term is the scan's start
            rows = rows.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=after_pk), updated_at__gte=at)
    found = []
    for tenant in _tenant_scans(filters, tenants):
        scan = rows.filter(tenant_key=tenant) if tenant is not None else rows
        if tenant is None and tenants:
            scan = scan.filter(tenant_key__in=tenants)
        found += scan.order_by("updated_at", "pk").values_list("updated_at", "pk")[: limit + 1]
    return sorted((updated_at, kind, pk) for updated_at, pk in found)[: limit + 1]


def _cursor(params: OrderFilters):
    if not 1 <= params.limit <= MAX_LIMIT:
        raise Problem(
            400,
            f"limit is between 1 and {MAX_LIMIT}.",
            kind="invalid-parameter",
            errors=[("limit", f"between 1 and {MAX_LIMIT}")],
        )
    if not params.cursor:
        return None
    at, kind, pk = decode_cursor(params.cursor, CURSOR)
    if kind not in MODEL or not 0 <= pk < 2**63:
        raise Problem(
            400, "The cursor is not one this API gave.", kind="invalid-cursor", errors=[("cursor", "invalid")]
        )
    return at, kind, pk


@operation(
    router.get,
    "/orders",
    "listOrders",
    scope=READ,
    summary="List background checks and exams, by when they last changed",
    response=Page[OrderOut],
)
def list_orders(request, filters: Query[OrderFilters]):
    after = _cursor(filters)
    kinds = [k for k in (BGC, EXAM) if filters.type in (None, k)]
    if filters.state is not None:
        kinds = [k for k in kinds if filters.state.value in STATES[k]]
    mask = Masker(request)
    keys = sorted(
        k for kind in kinds for k in _keys(kind, filters, request.api_key.tenant_keys, after, filters.limit)
    )
    more = len(keys) > filters.limit
    keys = keys[: filters.limit]
    loaded = {kind: _load(kind, [pk for _at, k, pk in keys if k == kind]) for kind in kinds}
    data = [order_out(*loaded[kind][pk], mask=mask) for _at, kind, pk in keys if pk in loaded[kind]]  # type: ignore[misc]
    return {"data": data, "next_cursor": encode_cursor(keys[-1]) if more else None}


def _parse(id: str) -> tuple[str, int] | None:
    match = _ID.match(id or "")
    if not match:
        return None
    return (BGC if match.group(1) == "bgc" else EXAM), int(match.group(2))


def _order(request, id: str, kind: str | None = None):
    """The order ``id`` names, if this key may see it; ``kind``: the kind the operation takes."""
    parsed = _parse(id)
    if parsed is None:
        raise not_found()
    found_kind, pk = parsed
    if kind is not None and found_kind != kind:
        other = "exams" if kind == EXAM else "background checks"
        raise Problem(404, f"Only {other} take this operation.", kind="not-found")
    rows = MODEL[found_kind].objects.filter(pk=pk)
    if request.api_key.tenant_keys:
        rows = rows.filter(tenant_key__in=request.api_key.tenant_keys)
    order = rows.first()
    if order is None:
        raise not_found()
    return order


@operation(
    router.get,
    "/orders/{id}",
    "getOrder",
    scope=READ,
    summary="One background check or exam",
    response=OrderOut,
)
def get_order(request, id: OrderId):
    return one_order(_order(request, id), Masker(request))


register(router)
