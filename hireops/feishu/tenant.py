"""Feishu's tenant info API (docs/feishu.md §7.7): a tenant's company name, for a store app
whose events carry only the tenant key.

``GET /open-apis/tenant/v2/tenant/query`` with the tenant's own tenant_access_token answers
for that tenant (a self-built app: its own company). A read: safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

from .http import FeishuClient, FeishuResponse


@dataclass(frozen=True)
class TenantInfo:
    tenant_key: str
    name: str
    display_id: str = ""  # the company's number in Feishu, unique on the platform
    tenant_tag: int | None = None  # 0 team edition, 2 personal edition
    avatar_url: str = ""  # avatar_240 (or the original)
    log_id: str | None = None


def _info(resp: FeishuResponse) -> TenantInfo:
    raw = resp.data.get("tenant") or {}
    avatar = raw.get("avatar") or {}
    tag = raw.get("tenant_tag")
    return TenantInfo(
        tenant_key=str(raw.get("tenant_key") or ""),
        name=str(raw.get("name") or ""),
        display_id=str(raw.get("display_id") or ""),
        tenant_tag=tag if isinstance(tag, int) and not isinstance(tag, bool) else None,
        avatar_url=str(avatar.get("avatar_240") or avatar.get("avatar_origin") or ""),
        log_id=resp.log_id,
    )


def query_tenant(client: FeishuClient, *, tenant_key: str | None = None) -> TenantInfo:
    """The tenant's company information (``tenant_key``: whose token; ignored by a
    self-built app, whose one token is its own company's)."""
    resp = client.request(
        "GET",
        "/open-apis/tenant/v2/tenant/query",
        endpoint="tenant.tenant.query",
        tenant_key=tenant_key,
    )
    return _info(resp)
