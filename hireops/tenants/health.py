"""Tenant name lookups that need a person (hireops.ops.status)."""

from hireops.ops import status

from .models import TenantNameLookup


@status.check
def name_lookups():
    yield from status.feishu_calls("tenants.name_lookups", TenantNameLookup)
