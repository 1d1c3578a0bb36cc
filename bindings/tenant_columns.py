"""What the vendor side says about each tenant on the tenants page (hireops.tenants.overview)."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hireops.core.admin.dashboard import changelist_url
from hireops.tenants import overview
from hireops.tenants.mode import store_app

from .models import BindingStatus, EcoAccountBinding, FieldPublish, FieldScope, VendorCustomer
from .selectors import behind_by_scope, publish_targets

CUSTOMERS_SHOWN = 3


@overview.column(gettext_lazy("bindings"), model=EcoAccountBinding)
def bindings(tenant_keys):
    return overview.count_by_tenant(EcoAccountBinding.objects.all(), tenant_keys, EcoAccountBinding)


@overview.column(gettext_lazy("customer"), model=VendorCustomer, store_only=True)
def customers(tenant_keys):
    """The vendor's customers this tenant's accounts are bound to: known once one is bound."""
    bound = EcoAccountBinding.objects.filter(
        tenant_key__in=tenant_keys, status=BindingStatus.BOUND, customer__isnull=False
    )
    found: dict[str, list[tuple[str, str]]] = {}
    rows = bound.order_by("tenant_key", "customer__name").values_list(
        "tenant_key", "customer_id", "customer__name"
    )
    for tenant_key, pk, name in rows.distinct():
        url = reverse("admin:bindings_vendorcustomer_change", args=[pk])
        found.setdefault(tenant_key, []).append((url, name))
    return {
        key: format_html(
            "{}{}",
            format_html_join(", ", '<a href="{}">{}</a>', links[:CUSTOMERS_SHOWN]),
            " …" if len(links) > CUSTOMERS_SHOWN else "",
        )
        for key, links in found.items()
    }


@overview.column(gettext_lazy("custom fields"), model=FieldScope)
def fields_state(tenant_keys):
    """Up to date, or which scopes the tenant's Feishu is behind on (its publishes linked)."""
    states = [s for s in FieldScope.objects.all() if s.revision]
    if not states:
        return {}
    behind = behind_by_scope(states)
    targets = set(publish_targets())
    labels = {s.scope: s.get_scope_display() for s in states}
    shown = {}
    for key in tenant_keys:
        own = key if store_app() else ""  # a self-built app publishes to its own tenant as ""
        if own not in targets:
            continue  # not installed: nothing is sent to it
        late = [labels[scope] for scope, keys in behind.items() if own in keys]
        if not late:
            shown[key] = _("up to date")
            continue
        url = changelist_url(FieldPublish, tenant_key=own) if own else changelist_url(FieldPublish)
        shown[key] = format_html('<a href="{}">{}</a>', url, _("behind: ") + ", ".join(late))
    return shown
