"""Nothing crosses tenants: an event touches only its own tenant's rows."""

from django.db.models import OuterRef, Subquery

from .mode import store_app
from .models import Tenant


def of_tenant(queryset, tenant_key: str, field: str = "tenant_key"):
    """The rows of ``queryset`` that belong to the event's tenant. A store app's rows record
    their tenant; a self-built app has one tenant, whose rows record "" (events still carry
    its real key), so there every row is its own."""
    if not store_app():
        return queryset
    return queryset.filter(**{field: tenant_key}) if tenant_key else queryset.none()


def with_tenant_name(queryset, field: str = "tenant_key"):
    """Each row annotated ``tenant_name``: the name staff gave its tenant (a list's column
    without a query per row)."""
    name = Tenant.objects.filter(tenant_key=OuterRef(field)).values("name")[:1]
    return queryset.annotate(tenant_name=Subquery(name))
