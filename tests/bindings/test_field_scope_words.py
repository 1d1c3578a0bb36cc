"""The field scopes and tenants pages say what a person can act on: no label left without its
value, no count of one tenant, and why a self-built app's tenant list is what it is."""

import re

import pytest

from bindings.models import CustomFieldDefinition, FieldScope
from bindings.publishing import scope_touch, tenant_state
from hireops.tenants.models import Tenant

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


def define_field(key="org_id", scope=1):
    CustomFieldDefinition.objects.create(scope=scope, key=key, name_zh="机构编号", name_en="Org id")
    scope_touch(scope)


def up_to_date_cell(page: str, scope=1) -> str:
    """The "tenants up to date" cell of the scope's row."""
    row = re.search(rf'<tr>(?:(?!</tr>).)*value="{scope}"(?:(?!</tr>).)*</tr>', page, re.S).group(0)
    return re.search(r'<td class="field-up_to_date">(.*?)</td>', row, re.S).group(1)


def test_a_self_built_app_says_whether_its_feishu_has_the_fields(admin_client, settings):
    settings.FEISHU_APP_TYPE = "self_built"
    define_field()
    page = admin_client.get("/admin/bindings/fieldscope/", **ZH).content.decode()
    cell = up_to_date_cell(page)
    assert "尚未同步：飞书仍显示上次发布的字段" in cell
    assert "落后：" not in cell and "1 个中的" not in cell

    state = FieldScope.objects.get(scope=1)
    published = tenant_state(1, "")
    published.published_revision = state.revision
    published.save()
    page = admin_client.get("/admin/bindings/fieldscope/", **ZH).content.decode()
    assert up_to_date_cell(page) == "已是最新"


def test_a_store_app_names_the_tenants_behind_and_counts_the_rest(admin_client, settings):
    settings.FEISHU_APP_TYPE = "store"
    for n in range(7):
        Tenant.objects.create(tenant_key=f"t-{n}")
    define_field()
    cell = up_to_date_cell(admin_client.get("/admin/bindings/fieldscope/", **ZH).content.decode())
    assert "7 个中的 0 个" in cell and "落后：t-0, t-1, t-2, t-3, t-4 还有 2 个租户" in cell


def test_a_self_built_apps_tenant_list_says_why_it_has_one_tenant_or_none(admin_client, settings):
    settings.FEISHU_APP_TYPE = "self_built"
    page = admin_client.get("/admin/tenants/tenant/", **ZH).content.decode()
    assert "这是自建应用：它只有一个租户，即贵公司自己的飞书。收到它的第一个事件后，它会出现在这里" in page
    Tenant.objects.create(tenant_key="demo-tenant")
    page = admin_client.get("/admin/tenants/tenant/", **ZH).content.decode()
    assert "即贵公司自己的飞书（见下方列表）" in page and "demo-tenant" in page

    settings.FEISHU_APP_TYPE = "store"
    assert 'id="self-built-tenant"' not in admin_client.get("/admin/tenants/tenant/", **ZH).content.decode()
