"""The tenant info API (docs/feishu.md §7.7): ``GET /open-apis/tenant/v2/tenant/query``.

Answers for the tenant the tenant_access_token belongs to, in the usual envelope
(``{"code": 0, "msg", "data": {"tenant": {...}}}``); token errors, faults and rate limits
go through the handler like every other OpenAPI call. Every tenant has a name: the
directory's, the one ``install_tenant(name=…)`` gave, or (CHOICE) one made from its key.
``display_id`` is made from the key, stable across restarts. CHOICE: the sandbox's app has
not been granted ``tenant:tenant.domain:read``, so ``domain`` is never in the answer (Feishu
leaves it out without that scope).
"""

import hashlib

from .hire_api import ok

AVATAR_SIZES = ("origin", "72", "240", "640")


def tenant_info(state, tenant_key: str) -> dict:
    with state.lock:
        name = state.tenant_names.get(tenant_key) or f"Tenant {tenant_key}"
    display_id = "F" + str(int(hashlib.sha256(tenant_key.encode()).hexdigest()[:12], 16))[:9]
    avatar = {
        f"avatar_{size}": f"https://sandbox.feishu.invalid/avatar/{display_id}_{size}"
        for size in AVATAR_SIZES
    }
    return {
        "name": name,
        "display_id": display_id,
        "tenant_tag": 0,  # 0: team edition, 2: personal edition
        "tenant_key": tenant_key,
        "avatar": avatar,
    }


def tenant_query(sb, call):
    return ok({"tenant": tenant_info(sb.state, call.tenant_key)})


ROUTES = [
    (
        "GET",
        "/open-apis/tenant/v2/tenant/query",
        tenant_query,
        {"kind": "openapi", "auth": True, "api": "tenant.query"},
    ),
]
