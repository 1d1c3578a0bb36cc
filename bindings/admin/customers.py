"""Vendor customers, their identifiers and bindings, and the matching rules."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hireops.core.admin import ReadOnlyInline
from hireops.core.admin.large import LargeTableAdmin

from ..forms import MatchingRuleForm
from ..models import CustomerIdentifier, EcoAccountBinding, MatchingRule, VendorCustomer


class IdentifierInline(admin.TabularInline):
    model = CustomerIdentifier
    extra = 1


class CustomerBindingInline(ReadOnlyInline):
    model = EcoAccountBinding
    fields = ("account_name", "account_id", "tenant_key", "scope", "status", "updated_at")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("bindings of this customer")


@admin.register(VendorCustomer)
class VendorCustomerAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = ("name", "contact", "identifier_list", "created_at")
    search_fields = ("name", "identifiers__value")
    inlines = [IdentifierInline, CustomerBindingInline]

    @admin.display(description=_("identifiers"))
    def identifier_list(self, obj):
        return ", ".join(str(i) for i in obj.identifiers.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("identifiers")


@admin.register(MatchingRule)
class MatchingRuleAdmin(admin.ModelAdmin):
    form = MatchingRuleForm
    list_display = ("scope", "keys")
