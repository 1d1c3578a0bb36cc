"""API keys in the admin: made with a second factor proven minutes ago, shown once, only
with scopes whose permissions the maker holds; revoked by an action; never changed or deleted."""

from urllib.parse import urlsplit

import pytest
from django.contrib.admin.models import LogEntry

from hireops.api.models import ApiKey
from hireops.core import audit
from hireops.tenants.models import Tenant
from tests.signin.test_every_page import age_the_proof

from .keys import bearer

pytestmark = pytest.mark.django_db

ADD = "/admin/api/apikey/add/"


@pytest.fixture
def key_maker(staff_user):
    return staff_user(perms=("api.add_apikey", "api.change_apikey", "api.view_apikey", "tenants.view_tenant"))


def test_a_key_is_shown_once_on_the_page_that_makes_it_and_works(client, key_maker):
    Tenant.objects.bulk_create([Tenant(tenant_key="t1"), Tenant(tenant_key="t2")])
    client.force_login(key_maker)
    page = client.post(
        ADD, {"name": "CRM sync", "scopes": ["tenants:read"], "tenants": "t1, t2", "expires_in_days": "30"}
    )
    assert page.status_code == 200
    key = page.context["key"]
    assert key.startswith("hko_") and key in page.content.decode()
    row = ApiKey.objects.get()
    assert row.created_by == key_maker and row.tenant_keys == ["t1", "t2"] and row.expires_at
    assert client.get("/api/v1/key", **bearer(key)).json()["name"] == "CRM sync"
    # Never again: not on its page, not in the list.
    for url in (f"/admin/api/apikey/{row.pk}/change/", "/admin/api/apikey/"):
        html = client.get(url).content.decode()
        assert row.prefix in html and key not in html
    entry = LogEntry.objects.get(object_id=str(row.pk))
    assert entry.user == key_maker and "Created the API key" in audit.describe(entry)


def test_a_tenant_hireops_does_not_know_is_refused_naming_it(client, key_maker):
    Tenant.objects.create(tenant_key="t1")
    client.force_login(key_maker)
    page = client.post(ADD, {"name": "x", "scopes": ["tenants:read"], "tenants": "t1\nt-typo, t-other"})
    assert page.status_code == 200 and "key" not in page.context
    assert page.context["form"].errors["tenants"] == [
        "Unknown tenant: t-other, t-typo. A key limited to a tenant hireops does not know would see nothing."
    ]
    assert not ApiKey.objects.exists()


def test_a_maker_who_may_not_view_tenants_learns_nothing_of_which_exist(client, staff_user):
    """Known or not, a tenant named by a maker without ``tenants.view_tenant`` gets one answer:
    the form may not tell them which tenant keys hireops knows."""
    Tenant.objects.create(tenant_key="t1")
    maker = staff_user(perms=("api.add_apikey", "api.view_apikey", "bindings.view_ecoaccountbinding"))
    client.force_login(maker)
    page = client.get(ADD)
    assert page.context["form"]["tenants"].field.widget.attrs.get("disabled")
    refusals = []
    for tenants in ("t1", "t-nobody"):
        page = client.post(ADD, {"name": "x", "scopes": ["bindings:read"], "tenants": tenants})
        assert page.status_code == 200 and "key" not in page.context
        refusals.append(page.context["form"].errors["tenants"])
    assert refusals[0] == refusals[1] == ["Limiting a key to tenants needs the permission to view tenants."]
    assert not ApiKey.objects.exists()
    made = client.post(ADD, {"name": "x", "scopes": ["bindings:read"], "tenants": ""})
    assert made.status_code == 200 and "key" in made.context
    assert ApiKey.objects.get().tenant_keys == []


def test_a_scope_whose_permission_the_maker_lacks_is_refused(client, staff_user):
    maker = staff_user(perms=("api.add_apikey", "api.view_apikey"))  # cannot view tenants
    client.force_login(maker)
    page = client.post(ADD, {"name": "x", "scopes": ["tenants:read"]})
    assert page.status_code == 200 and "key" not in page.context
    assert "permission you lack" in page.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_factor_proven_long_ago_makes_no_key(client, key_maker):
    client.force_login(key_maker)
    age_the_proof(client, 3600)
    page = client.post(ADD, {"name": "x", "scopes": ["tenants:read"]})
    assert page.status_code == 302 and urlsplit(page["Location"]).path == "/accounts/2fa/reauthenticate/"
    assert not ApiKey.objects.exists()


def test_revoking_stops_the_key_at_once_and_is_recorded(client, key_maker):
    client.force_login(key_maker)
    key = client.post(ADD, {"name": "x", "scopes": ["tenants:read"]}).context["key"]
    row = ApiKey.objects.get()
    answer = client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [row.pk]})
    assert answer.status_code == 302
    assert client.get("/api/v1/key", **bearer(key)).status_code == 401
    assert any(
        "Revoked the API key" in audit.describe(e) for e in LogEntry.objects.filter(object_id=str(row.pk))
    )


def test_a_key_cannot_be_edited_or_deleted(client, key_maker, admin_user):
    client.force_login(admin_user)
    key = client.post(ADD, {"name": "x", "scopes": ["tenants:read"]}).context["key"]
    row = ApiKey.objects.get()
    assert client.post(f"/admin/api/apikey/{row.pk}/change/", {"name": "y"}).status_code == 403
    assert client.get(f"/admin/api/apikey/{row.pk}/delete/").status_code == 403
    assert ApiKey.objects.get().name == "x" and client.get("/api/v1/key", **bearer(key)).status_code == 200


def test_without_the_permission_there_is_no_page(client, staff_user):
    client.force_login(staff_user("HR"))
    assert client.get(ADD).status_code == 403
