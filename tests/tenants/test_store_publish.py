"""A store app's custom fields go to every installed tenant, each as its own publish."""

import pytest
from django.db import transaction

from bindings.models import CustomFieldDefinition, FieldPublish, FieldScope, TenantFieldScope
from bindings.publishing import _queue, fields_publish_request, scope_touch
from bindings.selectors import tenants_behind
from hireops.core.models import CallStatus
from hireops.tenants.models import Tenant, TenantStatus
from hireops.tenants.services import tenant_lifecycle

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run (eagerly) on commit

FIELDS_PATH = "/open-apis/hire/v1/eco_account_custom_fields"


def define_field(scope=1, key="org_id"):
    CustomFieldDefinition.objects.create(scope=scope, key=key, name_zh="机构编号", name_en="Org id")
    scope_touch(scope)


def fields_in_sandbox(sandbox, tenant_key, scope=1):
    for entry in sandbox.state()["custom_fields"]:
        if (entry["tenant_key"], entry["scope"]) == (tenant_key, scope):
            return [f["key"] for f in entry["fields"]]
    return None


def test_a_publish_goes_to_every_installed_tenant_and_only_there(store):
    Tenant.objects.create(tenant_key="t-gone", status=TenantStatus.UNINSTALLED)
    define_field()
    publishes = fields_publish_request(1)
    assert sorted(p.tenant_key for p in publishes) == ["t-acme", "t-globex"]
    assert len({p.batch for p in publishes}) == 1  # one request
    for publish in publishes:
        publish.refresh_from_db()
        assert publish.status == CallStatus.SUCCEEDED, publish.error
        assert fields_in_sandbox(store, publish.tenant_key) == ["org_id"]
    calls = store.requests(FIELDS_PATH)
    assert len(calls) == 2 and len({c["headers"]["Authorization"] for c in calls}) == 2
    assert tenants_behind(FieldScope.objects.get(scope=1)) == []
    assert TenantFieldScope.objects.filter(scope=1, tenant_key="t-gone").count() == 0


def test_a_tenant_that_installs_later_receives_the_current_fields(store):
    define_field()
    fields_publish_request(1)
    store.install_tenant("t-new")  # Feishu's side: the tenant exists there now
    tenant_lifecycle(tenant_key="t-new", event_id="open-1", event_type="app_open", to_status="installed")
    publish = FieldPublish.objects.get(tenant_key="t-new")
    assert publish.status == CallStatus.SUCCEEDED, publish.error
    assert fields_in_sandbox(store, "t-new") == ["org_id"]


def test_a_tenant_that_stops_meanwhile_fails_alone_with_a_reason(store, admin_client):
    define_field()
    with transaction.atomic():  # the tasks run after the commit, once globex has stopped
        publishes = _queue(1, ["t-acme", "t-globex"])
        Tenant.objects.filter(tenant_key="t-globex").update(status=TenantStatus.SUSPENDED)
    outcome = {p.tenant_key: FieldPublish.objects.get(pk=p.pk) for p in publishes}
    assert outcome["t-acme"].status == CallStatus.SUCCEEDED
    assert outcome["t-globex"].status == CallStatus.FAILED and "stopped the app" in outcome["t-globex"].error
    assert [c["json"]["custom_field_list"][0]["key"] for c in store.requests(FIELDS_PATH)] == ["org_id"]

    page = admin_client.get(f"/admin/bindings/fieldpublish/?batch={publishes[0].batch}").content.decode()
    assert "This request: 1 of 2 tenants sent, 1 failed, 0 waiting." in page


def test_the_scopes_page_says_which_tenants_are_behind(store, admin_client):
    define_field()
    fields_publish_request(1)
    define_field(key="tax_no")  # a change not published yet
    Tenant.objects.create(tenant_key="t-third")
    page = admin_client.get("/admin/bindings/fieldscope/").content.decode()
    assert "0 of 3" in page and "t-acme, t-globex, t-third" in page


def own_field(tenant_key, key, scope=1, **fields):
    values = {"name_zh": "客户专用", "name_en": "Own", **fields}
    CustomFieldDefinition.objects.create(scope=scope, tenant_key=tenant_key, key=key, **values)
    scope_touch(scope, tenant_key)


def sent_to(sandbox, tenant_key, scope=1):
    for entry in sandbox.state()["custom_fields"]:
        if (entry["tenant_key"], entry["scope"]) == (tenant_key, scope):
            return {f["key"]: f for f in entry["fields"]}
    return None


def test_a_tenant_of_its_own_gets_its_version_the_others_the_shared_one(store):
    define_field()
    define_field(key="tax_no")
    own_field("t-acme", "org_id", name_zh="集团编号", is_required=True)  # replaces the shared one
    own_field("t-acme", "tax_no", is_active=False)  # removes it for acme
    own_field("t-acme", "branch")  # acme only
    fields_publish_request(1)
    acme, globex = sent_to(store, "t-acme"), sent_to(store, "t-globex")
    assert sorted(acme) == ["branch", "org_id"] and acme["org_id"]["name"]["zh_cn"] == "集团编号"
    assert acme["org_id"]["is_required"] is True
    assert sorted(globex) == ["org_id", "tax_no"] and globex["org_id"]["name"]["zh_cn"] == "机构编号"
    assert tenants_behind(FieldScope.objects.get(scope=1)) == []


def test_editing_one_tenants_fields_puts_only_that_tenant_behind(store):
    define_field()
    fields_publish_request(1)
    own_field("t-globex", "branch")
    assert tenants_behind(FieldScope.objects.get(scope=1)) == ["t-globex"]
    fields_publish_request(1, tenant_keys=["t-globex"])
    assert tenants_behind(FieldScope.objects.get(scope=1)) == []
    define_field(key="tax_no")  # a shared edit: everyone is behind again
    assert tenants_behind(FieldScope.objects.get(scope=1)) == ["t-acme", "t-globex"]


def test_fields_only_some_tenants_have_go_to_those_tenants_only(store):
    own_field("t-acme", "branch", scope=2)
    publishes = fields_publish_request(2)
    assert [p.tenant_key for p in publishes] == ["t-acme"]
    assert sorted(sent_to(store, "t-acme", scope=2)) == ["branch"]
    assert sent_to(store, "t-globex", scope=2) is None


def test_staff_give_a_tenant_its_own_version_in_the_admin(store, admin_client):
    define_field()
    fields_publish_request(1)
    shared = CustomFieldDefinition.objects.get(key="org_id")
    form = {
        "scope": 1,
        "tenant_key": "t-acme",
        "key": "org_id",
        "name_zh": "集团编号",
        "name_en": "Group id",
        "is_active": "on",
        "display_order": 0,
        "description_zh": "",
        "description_en": "",
        "_saveasnew": "Save as new",
    }
    response = admin_client.post(f"/admin/bindings/customfielddefinition/{shared.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CustomFieldDefinition.objects.filter(key="org_id").count() == 2
    assert tenants_behind(FieldScope.objects.get(scope=1)) == ["t-acme"]

    again = admin_client.post("/admin/bindings/customfielddefinition/add/", {**form, "_saveasnew": ""})
    assert "already exists" in again.content.decode()  # one version per tenant and key

    page = admin_client.get("/admin/bindings/customfielddefinition/?tenant_key=t-acme").content.decode()
    assert "集团编号" in page and "机构编号" not in page
    scopes = admin_client.get("/admin/bindings/fieldscope/").content.decode()
    assert "1 of 2" in scopes and "1 tenant with fields of its own" in scopes


def test_staff_publish_again_to_the_tenants_behind_only(store, admin_client):
    define_field()
    _queue(1, ["t-acme"])  # globex's publish never went out (e.g. it failed for good)
    action = {"action": "publish_behind", "_selected_action": [1]}
    admin_client.post("/admin/bindings/fieldscope/", action)
    assert [p.tenant_key for p in FieldPublish.objects.order_by("pk")] == ["t-acme", "t-globex"]
    assert tenants_behind(FieldScope.objects.get(scope=1)) == []
    again = admin_client.post("/admin/bindings/fieldscope/", action, follow=True).content.decode()
    assert "every tenant is up to date" in again and FieldPublish.objects.count() == 2
