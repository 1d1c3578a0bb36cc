from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .mode import store_app
from .models import Tenant, TenantStatus


def tenant_field(everyone=None, current: str = "", **kwargs) -> forms.Field:
    """The tenant a row belongs to: a store app's installed tenants to choose from (and the
    row's ``current`` one, whatever its status); a self-built app's own tenant ("") as a
    hidden value, so uniqueness per tenant is still checked by the form. With ``everyone``
    (its label), "" is a choice too: the row is every tenant's."""
    if not store_app():
        return forms.CharField(widget=forms.HiddenInput, required=False, validators=[_own_tenant], **kwargs)
    installed = Tenant.objects.filter(Q(status=TenantStatus.INSTALLED) | Q(tenant_key=current or None))
    choices = [(t.tenant_key, str(t)) for t in installed.order_by("name", "tenant_key")]
    if everyone is not None:
        kwargs["required"] = False
    kwargs.setdefault("help_text", _("The customer whose Feishu this is (tenants that installed the app)."))
    return forms.ChoiceField(label=_("tenant"), choices=[("", everyone or "---------"), *choices], **kwargs)


def _own_tenant(value: str) -> None:
    if value:
        raise ValidationError(_("A self-built app has one tenant: leave the tenant empty."))
