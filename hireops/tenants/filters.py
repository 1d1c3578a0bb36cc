from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .mode import store_app
from .models import Tenant

LISTED = 30  # tenants a filter lists in full
RECENT = 20  # beyond that: the most recently active


class TenantFilter(admin.SimpleListFilter):
    """A list's rows of one tenant, offered by the name staff gave it. The choices come from
    the tenants table (a few to a thousand rows), never from a DISTINCT over the list."""

    title = _("tenant")
    parameter_name = "tenant_key"
    field = "tenant_key"  # the list's column holding the tenant key

    def lookups(self, request, model_admin):
        """Every tenant while they fit a sidebar; beyond ``LISTED``, the tenant chosen and the
        most recently active ones (any other is one click away from the tenants page, whose
        counts open each list filtered to the tenant)."""
        tenants = Tenant.objects.order_by("-last_seen", "tenant_key").values_list("tenant_key", "name")
        shown = list(tenants[: LISTED + 1])
        if len(shown) > LISTED:
            shown = shown[:RECENT]
            chosen = self.value()
            if chosen and chosen not in {key for key, _name in shown}:
                shown += list(Tenant.objects.filter(tenant_key=chosen).values_list("tenant_key", "name"))
        return sorted(((key, name or key) for key, name in shown), key=lambda choice: str(choice[1]))

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class StoreTenantFilter(TenantFilter):
    """For rows a self-built app records with its own tenant as "" (referral accounts,
    reconciliation runs): offered for store apps only."""

    def lookups(self, request, model_admin):
        return super().lookups(request, model_admin) if store_app() else []
