from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core.admin import ReadOnlyInline, SystemRecordAdmin

from . import naming, overview
from .mode import store_app
from .models import Tenant, TenantNameLookup, TenantStatusChange


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


class NameLookupsInline(ReadOnlyInline):
    model = TenantNameLookup
    fields = readonly_fields = ("requested_at", "status", "name", "display_id", "error", "requested_by")
    verbose_name_plural = _("name asked of Feishu")
    show_change_link = True


def ask_names(model_admin, request, tenants) -> None:
    """Ask Feishu for the company names of these tenants (recorded on each)."""
    n = len(naming.lookup_names(tenants, request.user))
    model_admin.message_user(
        request,
        ngettext("Feishu is asked for %(n)d tenant's name.", "Feishu is asked for %(n)d tenants' names.", n)
        % {"n": n},
    )


def shown(column: overview.Column):
    """A list column reading the value ``TenantAdmin`` attached to each row of the page."""

    def value(tenant):
        return tenant.overview.get(column.name, "—")

    value.short_description = column.label  # type: ignore[attr-defined]  # the admin reads the header here
    value.__name__ = column.name.rsplit(".", 1)[-1]  # the cells' CSS class: field-<name>
    return value


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Tenants are created by Feishu's events, never by hand; staff name them. Each app adds
    what it knows about a tenant (``overview``): counts of its rows, publish state, the
    vendor's customer."""

    list_display = ("tenant_key", "name", "status", "first_seen", "last_seen")
    list_display_links = ("tenant_key",)
    # Filtered, the list says "N results (Show all)" rather than counting the table again: the
    # apps' columns already take a query each, and a page stays within 12 for every role.
    show_full_result_count = False
    # A row carries every app's columns: ten cells of the admin's per-cell machinery, about
    # 0.4 ms a row. 50 a page keeps the list within 50 ms for a vendor's 1,000 tenants
    # (bench/admin.py); the search finds one by key or name.
    list_per_page = 50
    list_filter = ("status",)
    search_fields = ("=tenant_key", "name")
    fields = (
        "tenant_key",
        "name",
        "feishu_name",
        "feishu_display_id",
        "status",
        "first_seen",
        "last_seen",
        "at_a_glance",
    )
    readonly_fields = (
        "tenant_key",
        "feishu_name",
        "feishu_display_id",
        "status",
        "first_seen",
        "last_seen",
        "at_a_glance",
    )
    inlines = [StatusHistoryInline, NameLookupsInline]
    actions = ["ask_feishu_for_names"]

    @admin.action(description=_("Ask Feishu for the names"), permissions=["change"])
    def ask_feishu_for_names(self, request, queryset):
        ask_names(self, request, list(queryset))

    def save_model(self, request, obj, form, change):
        """A name typed here is the tenant's from now on: Feishu's answers no longer replace it
        (hireops.tenants.naming). Only what the form edits is written, so an answer that
        arrived while the page was open is kept."""
        if "name" in form.changed_data:
            obj.name_from_feishu = False
        obj.updated_at = timezone.now()
        obj.save(update_fields=["name", "name_from_feishu", "updated_at"] if change else None)

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
        # Kept on the row for the page's columns (``shown``) and its glance.
        tenant.overview = {name: values.get(tenant.tenant_key, "—") for name, values in found.items()}  # type: ignore[attr-defined]
        tenant.glance = [(c.label, tenant.overview[c.name]) for c in columns]  # type: ignore[attr-defined]


@admin.register(TenantNameLookup)
class TenantNameLookupAdmin(SystemRecordAdmin):
    """Each ask of Feishu's tenant info API and its answer; a failed one is asked again here
    or from the tenants list."""

    list_display = (
        "__str__",
        "status",
        "name",
        "display_id",
        "error",
        "attempts",
        "requested_by",
        "requested_at",
    )
    list_filter = ("status",)
    list_select_related = ("tenant", "requested_by")
    search_fields = ("=tenant__tenant_key",)
    actions = ["ask_again"]
    fields = readonly_fields = (
        "tenant",
        "status",
        "name",
        "display_id",
        "attempts",
        "error",
        "error_code",
        "log_id",
        "requested_by",
        "requested_at",
        "finished_at",
    )

    def has_ask_permission(self, request):
        return request.user.has_perm("tenants.change_tenant")

    @admin.action(description=_("Ask Feishu again"), permissions=["ask"])
    def ask_again(self, request, queryset):
        tenants = Tenant.objects.filter(pk__in=queryset.values("tenant_id"))
        ask_names(self, request, list(tenants))
