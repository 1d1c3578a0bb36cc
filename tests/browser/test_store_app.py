"""A vendor's store app in the browser: a customer tenant installs it, gets the fields, binds."""

import pytest

from bindings.models import CustomerIdentifier, CustomFieldDefinition, MatchingRule, VendorCustomer
from bindings.publishing import scope_touch
from hireops.feishu import get_client
from tests.feishu.conftest import forget_tokens

from .admin_ui import expect, log_in, reload_until, row, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TENANT = "acme-tenant"


@pytest.fixture
def store_app(settings, tmp_path):
    settings.FEISHU_APP_TYPE = "store"
    settings.FEISHU_COORDINATION_URL = f"file://{tmp_path / 'coord'}"
    forget_tokens(get_client())
    yield
    forget_tokens(get_client())


def test_a_tenant_installs_gets_the_fields_and_binds(page, feishu, store_app, staff_user):
    CustomFieldDefinition.objects.create(
        scope=1, key="account_token", name_zh="账号令牌", name_en="Account token", is_required=True
    )
    scope_touch(1)
    MatchingRule.objects.create(scope=1, keys=["account_token"])
    customer = VendorCustomer.objects.create(name="Acme 背调客户")
    CustomerIdentifier.objects.create(customer=customer, key="account_token", value="ABC123")

    feishu.push_app_ticket()  # what Feishu pushes to a store app every hour
    feishu.install_tenant(TENANT)  # a customer enables the app: app_open reaches the webhook
    log_in(page, staff_user("Vendor operations"))
    page.goto("/admin/tenants/tenant/")
    reload_until(page, row(page, TENANT))
    row(page, TENANT).get_by_role("link", name=TENANT).click()
    page.locator("#id_name").fill("Acme 科技")
    page.locator("input[name=_save]").click()
    expect(row(page, TENANT)).to_contain_text("Acme 科技")
    screenshot(page, "store-1-tenant-installed-and-named")

    # The new tenant was sent the current fields on its own: nobody pressed "publish".
    page.goto("/admin/bindings/fieldscope/")
    reload_until(page, row(page, "Background check").locator(".field-up_to_date", has_text="1 of 1"))
    screenshot(page, "store-2-fields-published-to-the-tenant")

    feishu.bind_account(
        scope=1,
        account_name="Acme 背调账号",
        usage_list=[1],
        custom_field_list=[{"key": "account_token", "value": "ABC123"}],
        account_id="acc-store-1",
        tenant_key=TENANT,
    )
    page.goto(f"/admin/bindings/ecoaccountbinding/?tenant_key={TENANT}")
    reload_until(page, row(page, "Acme 背调账号"))
    expect(row(page, "Acme 背调账号")).to_contain_text("Bound")
    expect(page.locator("#changelist-filter")).to_contain_text("Acme 科技")  # the tenant, by its name
    screenshot(page, "store-3-account-bound-in-the-tenant")
