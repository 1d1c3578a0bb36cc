from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .mode import store_app
from .models import Tenant, TenantStatus


def tenant_field(**kwargs) -> forms.Field:
    """The tenant a new row belongs to: a store app's installed tenants to choose from; a
    self-built app's own tenant ("") as a hidden value, so uniqueness per tenant is still
    checked by the form."""
    if not store_app():
        return forms.CharField(widget=forms.HiddenInput, required=False, validators=[_own_tenant], **kwargs)
    installed = Tenant.objects.filter(status=TenantStatus.INSTALLED).order_by("name", "tenant_key")
    choices = [(t.tenant_key, str(t)) for t in installed]
    return forms.ChoiceField(
        label=_("tenant"),
        choices=[("", "---------"), *choices],
        help_text=_("The customer whose Feishu this is (tenants that installed the app)."),
        **kwargs,
    )


def _own_tenant(value: str) -> None:
    if value:
        raise ValidationError(_("A self-built app has one tenant: leave the tenant empty."))
