"""A tenant arrives named: its company's name is asked of Feishu's tenant info API (the sandbox,
over HTTP) when it enables the app, as an outbound call of its own that staff can follow and
ask again; a name staff typed is never replaced."""

import re

import pytest
from django.contrib.admin.models import LogEntry

from hireops import outbound
from hireops.core import audit
from hireops.core.models import CallStatus
from hireops.outbound.retry import TryLater
from hireops.tenants.models import Tenant, TenantNameLookup, TenantStatus
from hireops.tenants.naming import LOOKUP, lookup_names
from hireops.tenants.services import tenant_lifecycle

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run (eagerly) on commit

QUERY = "/open-apis/tenant/v2/tenant/query"
TENANTS = "/admin/tenants/tenant/"
LOOKUPS = "/admin/tenants/tenantnamelookup/"


def install(sandbox, tenant_key, name="", event_id="open-1"):
    """The tenant enables the app in Feishu, and its app_open is processed here."""
    sandbox.install_tenant(tenant_key, name=name)
    tenant_lifecycle(tenant_key=tenant_key, event_id=event_id, event_type="app_open", to_status="installed")
    return Tenant.objects.get(tenant_key=tenant_key)


def test_a_new_tenant_arrives_named(store):
    tenant = install(store, "t-new", name="新客户 有限公司")
    assert (tenant.name, tenant.feishu_name, tenant.name_from_feishu) == (
        "新客户 有限公司",
        "新客户 有限公司",
        True,
    )
    assert tenant.feishu_display_id.startswith("F")
    lookup = TenantNameLookup.objects.get(tenant=tenant)
    [call] = store.requests(QUERY)
    assert (lookup.status, lookup.name, lookup.attempts) == (CallStatus.SUCCEEDED, "新客户 有限公司", 1)
    assert lookup.log_id == call["logid"] and lookup.finished_at
    assert str(tenant) == "新客户 有限公司 (t-new)"


def test_a_name_staff_typed_is_never_replaced(store, admin_client):
    tenant = install(store, "t-new", name="新客户 有限公司")
    page = admin_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    assert "新客户 有限公司" in page and tenant.feishu_display_id in page
    url = f"{TENANTS}{tenant.pk}/change/"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    saved = admin_client.post(url, {**hidden, "name": "新客户（华东）", "_save": "Save"})
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    tenant.refresh_from_db()
    assert (tenant.name, tenant.name_from_feishu) == ("新客户（华东）", False)

    store.install_tenant("t-new", name="新客户 集团")  # the company renames itself in Feishu
    lookup_names([tenant])
    tenant.refresh_from_db()
    assert (tenant.name, tenant.feishu_name) == ("新客户（华东）", "新客户 集团")


def test_a_name_nobody_typed_follows_feishu(store):
    tenant = install(store, "t-new", name="新客户 有限公司")
    store.install_tenant("t-new", name="新客户 集团")
    tenant_lifecycle(tenant_key="t-new", event_id="open-2", event_type="app_open", to_status="installed")
    tenant.refresh_from_db()
    assert (tenant.name, tenant.feishu_name) == ("新客户 集团", "新客户 集团")
    assert TenantNameLookup.objects.filter(tenant=tenant, status=CallStatus.SUCCEEDED).count() == 2


def test_a_refusal_is_shown_and_asked_again_from_the_admin(store, admin_client):
    store.add_fault(QUERY, "error", status=403, code=1184001, msg="no permission to get tenant info")
    tenant = install(store, "t-new", name="新客户 有限公司")
    failed = TenantNameLookup.objects.get()
    assert failed.status == CallStatus.FAILED and failed.error_code == 1184001
    assert "does not let the app read this tenant" in failed.error and "1184001" in failed.error
    assert failed.attempts == 1 and len(store.requests(QUERY)) == 1  # a refusal is not retried
    assert tenant.name == "" and Tenant.objects.get(pk=tenant.pk).name == ""
    listing = admin_client.get(f"{LOOKUPS}?status__exact=failed").content.decode()
    assert "does not let the app read this tenant" in listing
    assert (
        "does not let the app read this tenant"
        in admin_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    )

    asked = admin_client.post(LOOKUPS, {"action": "ask_again", "_selected_action": [failed.pk]})
    assert asked.status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "新客户 有限公司"
    again = TenantNameLookup.objects.exclude(pk=failed.pk).get()
    assert again.status == CallStatus.SUCCEEDED and again.requested_by.username == "admin"
    history = [audit.describe(e) for e in LogEntry.objects.filter(object_id=str(tenant.pk))]
    assert history == [f"Name asked of Feishu (lookup #{again.pk})."]


def test_feishu_unreachable_is_retried_then_given_up_with_a_reason(store):
    tenant = Tenant.objects.get(tenant_key="t-acme")
    lookup = TenantNameLookup.objects.create(tenant=tenant)  # committed, its task not run yet
    store.add_fault(QUERY, "5xx", count=1, status=502)
    with pytest.raises(TryLater):  # the task tries again later, with backoff (the client does not)
        outbound.run(LOOKUP, lookup.pk)
    lookup.refresh_from_db()
    assert lookup.status == CallStatus.QUEUED and "HTTP 502" in lookup.error and lookup.log_id
    assert outbound.run(LOOKUP, lookup.pk) == CallStatus.SUCCEEDED  # the task's next try
    lookup.refresh_from_db()
    assert (lookup.error, lookup.attempts, lookup.name) == ("", 2, "Tenant t-acme")
    assert outbound.run(LOOKUP, lookup.pk) == CallStatus.SUCCEEDED  # done: a redelivery calls nothing
    assert len(store.requests(QUERY)) == 2

    stuck = TenantNameLookup.objects.create(tenant=tenant)
    outbound.give_up(LOOKUP, stuck.pk, "Feishu had an internal error")
    stuck.refresh_from_db()
    assert stuck.status == CallStatus.FAILED and stuck.error.startswith("Feishu could not be reached")


def test_a_tenant_that_stopped_the_app_is_not_asked(store):
    Tenant.objects.filter(tenant_key="t-globex").update(status=TenantStatus.SUSPENDED)
    [lookup] = lookup_names(Tenant.objects.filter(tenant_key="t-globex"))
    lookup.refresh_from_db()
    assert lookup.status == CallStatus.FAILED and "stopped the app" in lookup.error
    assert store.requests(QUERY) == []


def test_the_tenants_list_asks_for_names_as_vendor_operations(store, client, staff_user):
    client.force_login(staff_user("Vendor operations"))
    acme = Tenant.objects.get(tenant_key="t-acme")
    Tenant.objects.filter(pk=acme.pk).update(name="Acme（我们起的名）")
    client.post(TENANTS, {"action": "ask_feishu_for_names", "_selected_action": [acme.pk]})
    acme.refresh_from_db()
    assert (acme.name, acme.feishu_name) == ("Acme（我们起的名）", "Tenant t-acme")
    client.force_login(staff_user("HR"))
    assert "ask_feishu_for_names" not in client.get(TENANTS).content.decode()  # HR views tenants only


def test_a_self_built_app_names_its_own_tenant(sandbox, admin_client):
    tenant = Tenant.objects.create(tenant_key="demo-tenant")
    admin_client.post(TENANTS, {"action": "ask_feishu_for_names", "_selected_action": [tenant.pk]})
    tenant.refresh_from_db()
    assert tenant.name == "Demo Co. 演示公司"
    other = Tenant.objects.create(tenant_key="someone-else")  # not the app's own tenant
    [lookup] = lookup_names([other])
    lookup.refresh_from_db()
    assert lookup.status == CallStatus.FAILED and "another tenant (demo-tenant)" in lookup.error
    other.refresh_from_db()
    assert other.name == "" and other.feishu_name == ""


def test_the_task_runs_in_a_real_worker(sandbox, celery_worker):
    tenant = Tenant.objects.create(tenant_key="demo-tenant")
    [lookup] = lookup_names([tenant])  # tenants.lookup_name
    celery_worker(
        lambda: TenantNameLookup.objects.get(pk=lookup.pk).status == CallStatus.SUCCEEDED,
        what="tenants.lookup_name",
    )
    tenant.refresh_from_db()
    assert tenant.name == "Demo Co. 演示公司"
