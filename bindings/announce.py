"""What the vendor side tells partners' webhooks, written in the transaction of the change
(``hireops.webhooks.emit``; the types and their data are declared in ``webhook_events``)."""

from hireops.tenants.models import Tenant
from hireops.webhooks.events import emit


def tenant_installed(sender, tenant_key: str, **kwargs) -> None:
    tenant = Tenant.objects.filter(tenant_key=tenant_key).first()
    if tenant is not None:
        emit("tenant.installed", tenant, tenant_key=tenant_key)


def tenant_uninstalled(sender, tenant_key: str, **kwargs) -> None:
    tenant = Tenant.objects.filter(tenant_key=tenant_key).first()
    if tenant is not None:
        emit("tenant.uninstalled", tenant, tenant_key=tenant_key)


def binding_created(binding) -> None:
    emit("binding.created", binding, tenant_key=binding.tenant_key)


def binding_changed(binding) -> None:
    emit("binding.changed", binding, tenant_key=binding.tenant_key)
