"""The tenant info API (docs/feishu.md §7.7) against the sandbox over real HTTP: a self-built
app learns its own company's name, a store app each tenant's, with that tenant's token."""

import pytest
from django.conf import settings

from hireops.feishu import FeishuBusinessError, FeishuServerError, get_client, save_app_ticket
from hireops.feishu.tenant import query_tenant

from .conftest import forget_tokens

QUERY = "/open-apis/tenant/v2/tenant/query"


def test_a_self_built_app_learns_its_own_companys_name(sandbox, feishu):
    info = query_tenant(feishu)
    [call] = sandbox.requests(QUERY)
    assert call["method"] == "GET" and call["headers"]["Authorization"].startswith("Bearer t-")
    assert (info.tenant_key, info.name, info.tenant_tag) == ("demo-tenant", "Demo Co. 演示公司", 0)
    assert info.display_id.startswith("F") and info.log_id == call["logid"]
    assert info.avatar_url.startswith("https://")
    assert query_tenant(feishu).display_id == info.display_id  # stable


@pytest.fixture
def store_app(settings, sandbox, coordination_dir, db, feishu):  # db: the tenant gate reads tenants
    settings.FEISHU_APP_TYPE = "store"
    client = get_client()
    forget_tokens(client)
    save_app_ticket(client.app_id, sandbox.push_app_ticket()["event"]["app_ticket"])
    yield client
    forget_tokens(client)


def test_a_store_app_asks_each_tenant_with_its_own_token(sandbox, store_app):
    sandbox.install_tenant("t-new", name="新客户 有限公司")
    acme = query_tenant(store_app, tenant_key="acme-tenant")
    new = query_tenant(store_app, tenant_key="t-new")
    assert (acme.tenant_key, acme.name) == ("acme-tenant", "Acme 科技")
    assert (new.tenant_key, new.name) == ("t-new", "新客户 有限公司")
    assert acme.display_id != new.display_id
    tokens = [c["headers"]["Authorization"] for c in sandbox.requests(QUERY)]
    assert len(set(tokens)) == 2  # one tenant token each
    sandbox.install_tenant("t-unnamed")
    assert query_tenant(store_app, tenant_key="t-unnamed").name == "Tenant t-unnamed"


def test_feishus_refusal_is_final_and_a_5xx_is_retried(sandbox, feishu):
    sandbox.add_fault(QUERY, "error", status=403, code=1184001, msg="no permission to get tenant info")
    with pytest.raises(FeishuBusinessError) as exc:
        query_tenant(feishu)
    assert (exc.value.code, exc.value.http_status, exc.value.retryable) == (1184001, 403, False)
    assert exc.value.log_id == sandbox.requests(QUERY)[-1]["logid"]
    sandbox.add_fault(QUERY, "5xx", status=502)
    with pytest.raises(FeishuServerError) as exc:  # retryable: the task tries again (not the client)
        query_tenant(feishu)
    assert exc.value.retryable and exc.value.http_status == 502
    assert query_tenant(feishu).name == "Demo Co. 演示公司"
    assert [c["status"] for c in sandbox.requests(QUERY)] == [403, 502, 200]


def test_the_official_sdk_reads_the_sandboxs_answer(sandbox):
    import lark_oapi as lark  # 11,000 modules: loaded by this test, not at collection
    from lark_oapi.api.tenant.v2 import QueryTenantRequest

    client = (
        lark.Client.builder()
        .app_id(settings.FEISHU_APP_ID)
        .app_secret(settings.FEISHU_APP_SECRET)
        .domain(sandbox.url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    resp = client.tenant.v2.tenant.query(QueryTenantRequest.builder().build())
    assert resp.success(), (resp.code, resp.msg)
    tenant = resp.data.tenant
    assert (tenant.name, tenant.tenant_key, tenant.tenant_tag) == ("Demo Co. 演示公司", "demo-tenant", 0)
    assert tenant.avatar.avatar_72 and resp.get_log_id() == sandbox.requests(QUERY)[-1]["logid"]
