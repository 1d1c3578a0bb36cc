from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .mode import store_app
from .models import Tenant


class TenantFilter(admin.SimpleListFilter):
    """A list's rows of one tenant, offered by the name staff gave it. The choices come from
    the tenants table (a few to a thousand rows), never from a DISTINCT over the list."""

    title = _("tenant")
    parameter_name = "tenant_key"
    field = "tenant_key"  # the list's column holding the tenant key

    def lookups(self, request, model_admin):
        return [(key, name or key) for key, name in Tenant.objects.values_list("tenant_key", "name")]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class StoreTenantFilter(TenantFilter):
    """For rows a self-built app records with its own tenant as "" (referral accounts,
    reconciliation runs): offered for store apps only."""

    def lookups(self, request, model_admin):
        return super().lookups(request, model_admin) if store_app() else []
