"""A vendor's system reads its tenants, bindings and customers (``/api/v1/``)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema

from hireops.api.pagination import PageParams, page
from hireops.api.schemas import Page, Timestamp
from hireops.api.scopes import declare
from hireops.api.site import operation, register
from hireops.tenants.models import Tenant, TenantStatus

declare("tenants:read", _("See the tenants that installed the app"), permission="tenants.view_tenant")
router = Router(tags=["Tenants"])


class TenantOut(Schema):
    tenant_key: str
    name: str
    status: TenantStatus
    first_seen: dt.datetime
    updated_at: dt.datetime


class TenantFilters(PageParams):
    status: TenantStatus | None = None
    updated_after: Timestamp | None = None


@operation(router.get, "/tenants", scope="tenants:read", summary="List tenants", response=Page[TenantOut])
def list_tenants(request, filters: Query[TenantFilters]):
    rows = Tenant.objects.all()
    if request.api_key.tenant_keys:
        rows = rows.filter(tenant_key__in=request.api_key.tenant_keys)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=filters.updated_after)
    return page(
        rows,
        filters,
        serialize=lambda t: TenantOut(
            tenant_key=t.tenant_key,
            name=str(t),
            status=t.status,
            first_seen=t.first_seen,
            updated_at=t.updated_at,
        ),
    )


register(router)
