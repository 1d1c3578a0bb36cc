"""The vendor side's events for partners' webhooks (hireops.webhooks): ``data`` is the object as
``GET /api/v1/bindings/{id}`` or ``GET /api/v1/tenants`` answers it."""

from django.utils.translation import gettext_lazy as _

from hireops.tenants.models import Tenant
from hireops.webhooks.events import EventType, declare

from .api import BindingOut, TenantOut, binding_out, tenant_out


def _binding(binding, personal: bool, whole: bool) -> BindingOut:
    return binding_out(binding)


BINDING_CREATED = declare(
    EventType(
        "binding.created",
        _("A Feishu Hire customer added the vendor's account; the binding says how matching decided it."),
        scope="bindings:read",
        schema=BindingOut,
        render=_binding,
    )
)
BINDING_CHANGED = declare(
    EventType(
        "binding.changed",
        _("A binding's status or customer changed (matching again, or a person's decision)."),
        scope="bindings:read",
        schema=BindingOut,
        render=_binding,
    )
)


def _tenant(tenant: Tenant, personal: bool, whole: bool) -> TenantOut:
    return tenant_out(tenant)


TENANT_INSTALLED = declare(
    EventType(
        "tenant.installed",
        _("A customer tenant enabled the vendor's store app (or enabled it again)."),
        scope="tenants:read",
        schema=TenantOut,
        render=_tenant,
    )
)
TENANT_UNINSTALLED = declare(
    EventType(
        "tenant.uninstalled",
        _("A customer tenant uninstalled the vendor's store app: nothing more can be sent to it."),
        scope="tenants:read",
        schema=TenantOut,
        render=_tenant,
    )
)
