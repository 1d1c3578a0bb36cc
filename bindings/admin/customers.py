"""Vendor customers, their identifiers and bindings, and the matching rules."""

import functools

from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from hireops.core.admin import ReadOnlyInline
from hireops.core.admin.large import LargeTableAdmin
from hireops.tenants.mode import store_app
from hireops.tenants.models import Tenant

from ..deletion import why_kept
from ..forms import MatchingRuleForm
from ..models import BindingStatus, CustomerIdentifier, EcoAccountBinding, MatchingRule, VendorCustomer


class IdentifierInline(admin.TabularInline):
    model = CustomerIdentifier
    extra = 1


class CustomerBindingInline(ReadOnlyInline):
    model = EcoAccountBinding
    fields = ("account_name", "account_id", "tenant_key", "scope", "status", "updated_at")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("bindings of this customer")


def in_one_transaction(action):
    @functools.wraps(action)  # its permissions and description too
    def run(model_admin, request, queryset):
        with transaction.atomic():
            return action(model_admin, request, queryset)

    return run


@admin.register(VendorCustomer)
class VendorCustomerAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = ("name", "contact", "identifier_list", "created_at")
    search_fields = ("name", "identifiers__value")
    readonly_fields = ("tenants",)
    inlines = [IdentifierInline, CustomerBindingInline]

    @admin.display(description=_("Feishu tenants"))
    def tenants(self, obj):
        """Where this customer's accounts are bound (a store app's customer tenants)."""
        if obj.pk is None or not store_app():
            return "—"
        bound = EcoAccountBinding.objects.filter(customer=obj, status=BindingStatus.BOUND)
        keys = bound.order_by().values_list("tenant_key", flat=True).distinct()
        tenants = Tenant.objects.filter(tenant_key__in=keys).order_by("name", "tenant_key")
        links = ((reverse("admin:tenants_tenant_change", args=[t.pk]), str(t)) for t in tenants)
        return format_html_join(", ", '<a href="{}">{}</a>', links) or "—"

    @admin.display(description=_("identifiers"))
    def identifier_list(self, obj):
        return ", ".join(str(i) for i in obj.identifiers.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("identifiers")

    def get_actions(self, request):
        """Django's bulk delete, in one transaction as its delete page is: the check of what
        keeps the customers holds until they are gone (``bindings.deletion.why_kept``)."""
        actions = super().get_actions(request)
        if (delete := actions.get("delete_selected")) is not None:
            delete_selected, name, description = delete
            actions["delete_selected"] = (in_one_transaction(delete_selected), name, description)
        return actions

    def get_deleted_objects(self, objs, request):
        """What else keeps the customers (``bindings.deletion``) is listed as protected: the
        page and the bulk action then delete nothing and say why."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, [*protected, *why_kept([obj.pk for obj in objs], request.user)]


@admin.register(MatchingRule)
class MatchingRuleAdmin(admin.ModelAdmin):
    form = MatchingRuleForm
    list_display = ("scope", "keys")
