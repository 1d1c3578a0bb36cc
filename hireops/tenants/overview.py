"""What each app says about a tenant: the tenants page's columns, from each app's
``tenant_columns.py`` (found like admin.py is), so the platform names no app::

    from hireops.tenants import overview

    @overview.column(_("orders"), model=Order)
    def orders(tenant_keys):
        return overview.count_by_tenant(Order.objects.all(), tenant_keys, Order)

A column takes the keys of the tenants shown and returns what to show for each (HTML-safe
text or a number; a missing key shows "—"), in one query for the page, not one per row. It
is shown to whoever may view ``model``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext as _

from hireops.core import discovery
from hireops.core.admin.dashboard import can_view, changelist_url
from hireops.core.admin.large import EstimatedCountPaginator

from .mode import store_app


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    model: type
    values: Callable[[list[str]], dict[str, object]]
    store_only: bool = False  # says something only where tenants are customers


_columns: list[Column] = []


def column(label, model, store_only: bool = False):
    def register(fn):
        name = f"{fn.__module__}.{fn.__qualname__}"
        if all(c.name != name for c in _columns):
            _columns.append(Column(name, label, model, fn, store_only))
        return fn

    return register


def columns_for(user) -> list[Column]:
    discovery.require("tenant_columns")  # every app's tenant_columns.py (hireops.tenants.apps)
    store = store_app()
    return [c for c in _columns if can_view(user, c.model) and (store or not c.store_only)]


def count_by_tenant(queryset, tenant_keys: list[str], model, field: str = "tenant_key") -> dict[str, object]:
    """Each tenant's rows in ``queryset``, counted, linked to the model's list of them. A
    self-built app's one tenant owns every row (hireops.tenants.scoping): counted exactly up
    to a thousand, then estimated like the large lists."""
    if store_app():
        grouped = queryset.filter(**{f"{field}__in": tenant_keys}).order_by().values(field)
        counts = {row[field]: row["n"] for row in grouped.annotate(n=Count("pk"))}
        base = changelist_url(model)  # reversed once, not once a row
        return {
            key: _linked(f"{base}?{urlencode({'tenant_key': key})}", counts.get(key, 0))
            for key in tenant_keys
        }
    paginator = EstimatedCountPaginator(queryset, 1)
    n = paginator.count
    text = _("about %(n)s") % {"n": f"{n:,}"} if paginator.estimated else n
    return dict.fromkeys(tenant_keys, _linked(changelist_url(model), text))


def _linked(url: str, text) -> str:
    return format_html('<a href="{}">{}</a>', url, text)
