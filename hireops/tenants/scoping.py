"""Nothing crosses tenants: an event touches only its own tenant's rows."""

from .mode import store_app


def of_tenant(queryset, tenant_key: str, field: str = "tenant_key"):
    """The rows of ``queryset`` that belong to the event's tenant. A store app's rows record
    their tenant; a self-built app has one tenant, whose rows record "" (events still carry
    its real key), so there every row is its own."""
    if not store_app():
        return queryset
    return queryset.filter(**{field: tenant_key}) if tenant_key else queryset.none()
