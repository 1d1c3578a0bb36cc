"""The admin index's "Needs attention" box: each app contributes its own items.

An app lists what needs attention in its ``dashboard.py`` (found like admin.py is, the first
time the box is drawn), reading through its own selectors::

    from hireops.core.admin import dashboard

    @dashboard.contribute
    def exams_waiting(request):
        if request.user.has_perm("exams.view_exam"):
            yield dashboard.Item(_("Exams waiting"), selectors.exams_waiting(), url)

A contribution takes the request (so it shows each role only its own part) and yields
``Item``s (a count linked to its list) and ``Fact``s (a figure worth seeing). An item's count
may be left as a queryset: ``board`` counts every such queryset of every contribution in one
query (``capped_counts``), so a new section costs the page no round trip.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connections
from django.db.models import QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from hireops.feishu import get_client

from .. import discovery


@dataclass
class Item:
    label: str
    count: object  # a number, "1,000+" (capped_count), or a queryset board() counts so
    url: str = ""
    # Which tenants the counted rows belong to, for a store app's dashboard
    # (hireops.tenants.attention): the rows' queryset and its tenant field, or
    # {tenant_key: count} already known; ``tenant_url`` is a list filtering by tenant_key
    # (default: ``url``).
    per_tenant: object = None
    tenant_field: str = "tenant_key"
    tenant_url: str = ""


CAP = 1_000


def capped_count(queryset, cap: int = CAP) -> int | str:
    """The exact count up to ``cap``, else "1,000+": a bounded scan instead of counting a
    hundred thousand rows on every page view. Below the cap, where a number is something to
    act on, it is exact."""
    return figures(counts={"n": queryset}, cap=cap)["n"]


def capped_counts(cap: int = CAP, **querysets) -> dict[str, int | str]:
    """``capped_count`` of each queryset, all in one query."""
    return figures(counts=querysets, cap=cap)


def figures(counts: dict | None = None, values: dict | None = None, cap: int = CAP) -> dict:
    """Many dashboard figures in one query (one round trip per section, not one per number):
    ``counts`` are querysets counted up to ``cap`` (``capped_count``); ``values`` are
    querysets of one row of one column (``one_value``), read as they are."""
    counts, values = counts or {}, values or {}
    if not counts and not values:
        return {}
    parts, params = [], []
    for i, queryset in enumerate(counts.values()):
        sql, sql_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{i})")  # noqa: S608 (see below)
        params.extend(sql_params)
    for queryset in values.values():
        sql, sql_params = queryset.query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(sql_params)
    # Only the ORM's own compiled SQL goes into the statement; every value stays a parameter.
    db = next(iter([*counts.values(), *values.values()])).db
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    found = {name: f"{cap:,}+" if n > cap else n for name, n in zip(counts, row, strict=False)}
    read = [_as_datetime(connections[db], v) for v in row[len(counts) :]]
    return {**found, **dict(zip(values, read, strict=True))}


def one_value(queryset, aggregate):
    """``queryset``'s ``aggregate`` (``Max("x")``…) as a one-row, one-column queryset, for
    ``figures``' ``values`` (the grouping on a constant makes it one row)."""
    single = queryset.order_by().annotate(one=Value(1)).values("one")
    return single.annotate(value=aggregate).values("value")


def _as_datetime(connection, value):
    """SQLite hands back a subquery's datetime as text, or naive (in UTC): read it like the
    ORM would."""
    if connection.vendor != "sqlite":
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        return value
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


@dataclass
class Fact:
    label: str
    value: object


Contribution = Callable[[object], Iterable[Item | Fact]]
_contributions: list[Contribution] = []


def contribute(fn: Contribution) -> Contribution:
    if fn not in _contributions:
        _contributions.append(fn)
    return fn


# Parts of the dashboard the platform's other packages add beside the items (the items grouped
# by tenant): each ``fn(request, items)`` returns template variables.
_panels: list[Callable] = []


def add_panel(fn: Callable) -> Callable:
    if fn not in _panels:
        _panels.append(fn)
    return fn


def panels(request, items) -> dict:
    context = {}
    for fn in _panels:
        context.update(fn(request, items))
    return context


def changelist_url(model, **filters) -> str:
    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return base + ("?" + "&".join(f"{k}={v}" for k, v in filters.items()) if filters else "")


def can_view(user, model) -> bool:
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def board(request) -> tuple[list[Item], list[Fact]]:
    """Every contribution's items and facts for this request, in app order."""
    discovery.require("dashboard")  # every app's dashboard.py (hireops.core.apps)
    items: list[Item] = []
    facts: list[Fact] = []
    for contribution in _contributions:
        for entry in contribution(request):
            (items if isinstance(entry, Item) else facts).append(entry)  # type: ignore[arg-type]
    lazy = {str(i): item.count for i, item in enumerate(items) if isinstance(item.count, QuerySet)}
    for key, count in capped_counts(**lazy).items():  # type: ignore[arg-type]  # the keys are digits, never "cap"
        items[int(key)].count = count
    return items, facts


@contribute
def feishu_calls_stopped(request):
    """Everyone's work stops when the app's monthly API quota is used up (99991403)."""
    until = get_client().quota.stopped_until()
    if until:
        day = timezone.localtime(datetime.fromtimestamp(until, UTC)).date()
        label = _(
            "Calls to Feishu are stopped: the app's monthly API call quota is used up until %(day)s "
            "(manage.py feishu_quota --resume lifts the stop once the quota is raised)."
        ) % {"day": day}
        yield Item(label, 1)
