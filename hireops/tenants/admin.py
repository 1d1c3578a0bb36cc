from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hireops.core.admin import ReadOnlyInline

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


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Tenants are created by Feishu's events, never by hand; staff name them."""

    list_display = ("tenant_key", "name", "status", "first_seen", "last_seen")
    list_display_links = ("tenant_key",)
    list_filter = ("status",)
    search_fields = ("=tenant_key", "name")
    fields = ("tenant_key", "name", "status", "first_seen", "last_seen")
    readonly_fields = ("tenant_key", "status", "first_seen", "last_seen")
    inlines = [StatusHistoryInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
