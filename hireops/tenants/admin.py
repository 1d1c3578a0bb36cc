from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from hireops.core.admin import ReadOnlyInline

from . import overview
from .mode import store_app
from .models import Tenant, TenantStatusChange


class StatusHistoryInline(ReadOnlyInline):
    model = TenantStatusChange
    fields = readonly_fields = (
        "at",
        "event_type",
        "feishu_status",
        "from_status",
        "to_status",
        "applied",
        "event_id",
    )
    verbose_name_plural = _("status history")


def shown(column: overview.Column):
    """A list column reading the value ``TenantAdmin`` attached to each row of the page."""

    def value(tenant):
        return tenant.overview.get(column.name, "—")

    value.short_description = column.label
    value.__name__ = column.name.rsplit(".", 1)[-1]  # the cells' CSS class: field-<name>
    return value


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Tenants are created by Feishu's events, never by hand; staff name them. Each app adds
    what it knows about a tenant (``overview``): counts of its rows, publish state, the
    vendor's customer."""

    list_display = ("tenant_key", "name", "status", "first_seen", "last_seen")
    list_display_links = ("tenant_key",)
    list_filter = ("status",)
    search_fields = ("=tenant_key", "name")
    fields = ("tenant_key", "name", "status", "first_seen", "last_seen", "at_a_glance")
    readonly_fields = ("tenant_key", "status", "first_seen", "last_seen", "at_a_glance")
    inlines = [StatusHistoryInline]

    def get_list_display(self, request):
        return (*self.list_display, *(shown(c) for c in overview.columns_for(request.user)))

    def changelist_view(self, request, extra_context=None):
        # A self-built app's list is its own company, or empty before its first event: say why.
        extra_context = {**(extra_context or {}), "self_built": not store_app()}
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        attach(list(changelist.result_list), overview.columns_for(request.user))
        return changelist

    def get_object(self, request, object_id, from_field=None):
        tenant = super().get_object(request, object_id, from_field)
        if tenant is not None:
            attach([tenant], overview.columns_for(request.user))
        return tenant

    @admin.display(description=_("at a glance"))
    def at_a_glance(self, tenant):
        return (
            format_html_join("", "<div><strong>{}</strong>: {}</div>", getattr(tenant, "glance", [])) or "—"
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def attach(tenants: list[Tenant], columns: list[overview.Column]) -> None:
    """Each column's values for these tenants (one query each), kept on the rows."""
    keys = [t.tenant_key for t in tenants]
    found = {c.name: c.values(keys) if keys else {} for c in columns}
    for tenant in tenants:
        tenant.overview = {name: values.get(tenant.tenant_key, "—") for name, values in found.items()}
        tenant.glance = [(c.label, tenant.overview[c.name]) for c in columns]
