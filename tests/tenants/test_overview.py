"""The tenants page says what each app knows of a tenant; a store app's dashboard groups
what needs attention by tenant."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bindings.models import (
    BindingStatus,
    EcoAccountBinding,
    FieldScope,
    TenantFieldScope,
    VendorCustomer,
)
from hireops.tenants.models import Tenant, TenantStatus
from referrals.models import AccountStatus, ReferralAccount

pytestmark = pytest.mark.django_db
TENANTS = "/admin/tenants/tenant/"


@pytest.fixture
def two_tenants(settings):
    settings.FEISHU_APP_TYPE = "store"
    Tenant.objects.create(tenant_key="t-acme", name="Acme")
    Tenant.objects.create(tenant_key="t-globex")
    Tenant.objects.create(tenant_key="t-gone", status=TenantStatus.UNINSTALLED)
    customer = VendorCustomer.objects.create(name="艾克米集团")
    for i, status in enumerate([BindingStatus.BOUND, BindingStatus.NEEDS_REVIEW, BindingStatus.NEEDS_REVIEW]):
        EcoAccountBinding.objects.create(
            app_id="a",
            tenant_key="t-acme",
            account_id=f"acme-{i}",
            scope=1,
            status=status,
            customer=customer if status == BindingStatus.BOUND else None,
        )
    ReferralAccount.objects.create(
        tenant_key="t-globex", email="f@globex.example", status=AccountStatus.FAILED
    )
    # Scope 1 published everywhere; globex is behind on a later edit of its own fields.
    FieldScope.objects.update_or_create(scope=1, defaults={"revision": 4, "shared_revision": 2})
    TenantFieldScope.objects.create(scope=1, tenant_key="t-acme", published_revision=2)
    TenantFieldScope.objects.create(scope=1, tenant_key="t-globex", published_revision=2, own_revision=4)
    return customer


def row_of(page: str, tenant_key: str) -> str:
    return page.split(f">{tenant_key}</a>", 1)[1].split("</tr>", 1)[0]


def test_the_tenants_page_counts_each_tenants_rows_and_says_its_publish_state(admin_client, two_tenants):
    page = admin_client.get(TENANTS).content.decode()
    acme, globex, gone = (row_of(page, key) for key in ("t-acme", "t-globex", "t-gone"))
    assert ">3</a>" in acme and ">0</a>" in globex  # bindings (and accounts: 0 / 1)
    assert f'<a href="/admin/bindings/vendorcustomer/{two_tenants.pk}/change/">艾克米集团</a>' in acme
    assert "up to date" in acme and "behind: Background check" in globex and "tenant_key=t-globex" in globex
    assert "up to date" not in gone and "behind" not in gone  # nothing is sent to it
    assert '?tenant_key=t-acme"' in acme  # each count opens its list, filtered

    tenant = Tenant.objects.get(tenant_key="t-acme")
    glance = admin_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    assert "艾克米集团" in glance and "up to date" in glance


def test_each_role_sees_the_columns_of_its_own_work(client, staff_user, two_tenants):
    client.force_login(staff_user("Vendor operations"))
    vendor = client.get(TENANTS).content.decode().lower()
    assert "艾克米集团" in vendor and "custom fields" in vendor and "referral accounts" not in vendor
    client.force_login(staff_user("HR"))
    hr = client.get(TENANTS).content.decode().lower()
    assert "referral accounts" in hr and "艾克米集团" not in hr and "custom fields" not in hr


def test_the_tenants_page_reads_a_fixed_number_of_queries(admin_client, two_tenants):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(TENANTS).status_code == 200
        return len(captured)

    few = queries()
    Tenant.objects.bulk_create(Tenant(tenant_key=f"t-{i}") for i in range(20))
    assert queries() == few


def by_tenant(page: str) -> dict[str, str]:
    section = page.split('id="attention-by-tenant"', 1)[1].split("</table>", 1)[0]
    return dict(
        re.findall(r'<th scope="row">(?:<a href="[^"]+">)?([^<]+)(?:</a>)?</th>\s*<td>(.*?)</td>', section)
    )


def test_a_store_apps_dashboard_groups_what_needs_attention_by_tenant(admin_client, two_tenants):
    page = admin_client.get("/admin/").content.decode()
    grouped = by_tenant(page)
    assert list(grouped) == ["Acme", "t-globex"]  # the most first
    assert "Bindings needing review</a>: <strong>2</strong>" in grouped["Acme"]
    assert "Registrations failed</a>: <strong>1</strong>" in grouped["t-globex"]
    assert (
        "Unpublished custom-field changes: Background check (背调)</a>: <strong>1</strong>"
        in grouped["t-globex"]
    )
    for url in re.findall(r'href="([^"]+)"', grouped["Acme"] + grouped["t-globex"]):
        response = admin_client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200 and "?e=1" not in response.get("Location", ""), url
    review = admin_client.get(
        "/admin/bindings/ecoaccountbinding/?status__exact=needs_review&tenant_key=t-acme"
    )
    assert len(review.context["cl"].result_list) == 2


def test_a_self_built_app_has_nothing_to_group(admin_client, two_tenants, settings):
    settings.FEISHU_APP_TYPE = "self_built"
    page = admin_client.get("/admin/").content.decode()
    assert "attention-by-tenant" not in page
    tenants = admin_client.get(TENANTS).content.decode()
    assert "艾克米集团" not in tenants  # the customer column is a store app's


def test_a_customers_page_links_the_tenants_its_accounts_are_bound_in(admin_client, two_tenants):
    page = admin_client.get(f"/admin/bindings/vendorcustomer/{two_tenants.pk}/change/").content.decode()
    acme = Tenant.objects.get(tenant_key="t-acme")
    assert f'<a href="/admin/tenants/tenant/{acme.pk}/change/">Acme (t-acme)</a>' in page


def test_a_tenant_filter_lists_the_recent_tenants_once_there_are_many(admin_client):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    Tenant.objects.bulk_create(
        Tenant(tenant_key=f"t-{i:02d}", last_seen=now - timedelta(hours=i)) for i in range(40)
    )
    choices = admin_client.get("/admin/events/feishuevent/").context["cl"].filter_specs[-1].lookup_choices
    assert sorted(key for key, _name in choices) == [f"t-{i:02d}" for i in range(20)]  # the 20 most recent
    chosen = admin_client.get("/admin/events/feishuevent/?tenant_key=t-39").context["cl"].filter_specs[-1]
    assert "t-39" in {key for key, _name in chosen.lookup_choices}  # the one chosen stays offered
