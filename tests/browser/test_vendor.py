"""Vendor operations in the browser: publishing custom fields, reviewing a binding Feishu pushed."""

import pytest

from bindings.models import BindingStatus, CustomerIdentifier, EcoAccountBinding, MatchingRule, VendorCustomer

from .admin_ui import expect, log_in, reload_until, row, run_action, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_publish_a_new_custom_field_to_feishu(page, sandbox, staff_user):
    log_in(page, staff_user("Vendor operations"))
    page.goto("/admin/bindings/customfielddefinition/")
    page.locator("#content-main .object-tools a.addlink").click()
    page.locator("#id_scope").select_option(label="Background check (背调)")
    page.locator("#id_key").fill("account_token")
    page.locator("#id_is_required").check()
    page.locator("#id_name_zh").fill("账号令牌")
    page.locator("#id_name_en").fill("Account token")
    page.locator("#id_description_zh").fill("在供应商后台的“设置”页查看")
    screenshot(page, "publish-1-new-custom-field")
    page.locator("input[name=_save]").click()

    messages = page.locator("ul.messagelist")
    expect(messages.locator(".success")).to_contain_text("account_token")
    expect(messages.locator(".warning")).to_contain_text("Background check (背调): unpublished changes")
    screenshot(page, "publish-2-unpublished-warning")
    messages.get_by_role("link", name="Publish…").click()

    run_action(page, "Background check", "publish")
    expect(messages.locator(".success")).to_contain_text("Background check (背调): publish queued.")
    screenshot(page, "publish-3-queued")
    messages.get_by_role("link", name="Follow it").click()

    reload_until(page, page.locator(".field-status .readonly", has_text="Succeeded"))
    expect(page.locator(".field-response_pretty")).to_contain_text('"msg": "ok"')
    screenshot(page, "publish-4-succeeded")

    published = [e for e in sandbox.state()["custom_fields"] if e["scope"] == 1]
    assert [f["key"] for f in published[0]["fields"]] == ["account_token"]
    page.goto("/admin/bindings/fieldscope/")
    expect(row(page, "Background check").locator(".field-published img")).to_have_attribute("alt", "True")


@pytest.fixture
def acme():
    MatchingRule.objects.create(scope=1, keys=["account_token"])
    customer = VendorCustomer.objects.create(name="Acme 背调客户")
    CustomerIdentifier.objects.create(customer=customer, key="account_token", value="ABC123")
    return customer


def test_binding_pushed_by_feishu_is_reviewed_and_bound_by_staff(
    page, feishu, celery_worker, staff_user, acme
):
    staff = staff_user("Vendor operations")
    # A customer adds our account in Feishu but types a token we do not know: matching
    # cannot decide, so the binding waits for a person.
    feishu.bind_account(
        scope=1,
        account_name="Sandbox 招聘账号",
        custom_field_list=[{"key": "account_token", "value": "acme-typo"}],
        account_id="acc-sandbox",
    )
    log_in(page, staff)
    reload_until(page, page.locator("#attention tr.attention-open", has_text="Bindings needing review"), 30)
    screenshot(page, "binding-1-dashboard-needs-review")
    page.locator("#attention").get_by_role("link", name="Bindings needing review").click()

    queued = row(page, "Sandbox 招聘账号")
    expect(queued).to_contain_text("Needs review")
    # The worker writes the reason in the site's language, whatever the reader's: check the values.
    expect(queued.locator(".field-reason")).to_contain_text("account_token=acme")  # whole in its tooltip
    screenshot(page, "binding-2-review-queue")

    run_action(page, "Sandbox 招聘账号", "bind_to_customer")
    page.locator(".select2-selection").click()
    page.locator(".select2-search__field").fill("ABC1")  # the picker also searches identifiers
    page.locator(".select2-results__option", has_text="Acme 背调客户").click()
    page.locator("#id_reason").fill("Confirmed on the phone: acme-typo is their old token")
    screenshot(page, "binding-3-bind-to-customer")
    page.locator("input[type=submit][value=Confirm]").click()

    expect(page.locator("ul.messagelist .success")).to_contain_text("Bound to Acme 背调客户.")
    expect(row(page, "Sandbox 招聘账号")).to_have_count(0)  # it left the review queue
    page.goto("/admin/bindings/ecoaccountbinding/")
    bound = row(page, "Sandbox 招聘账号")
    expect(bound).to_contain_text("Bound")
    expect(bound).to_contain_text("Acme 背调客户")
    screenshot(page, "binding-4-bound")

    bound.get_by_role("link", name="Sandbox 招聘账号").click()
    latest = page.locator(".inline-group tbody tr").first
    expect(latest).to_contain_text("Needs review")
    expect(latest).to_contain_text(staff.username)
    expect(latest).to_contain_text("Confirmed on the phone")
    expect(page.locator("input[name=_save]")).to_have_count(0)  # changed through actions only
    screenshot(page, "binding-5-history")

    binding = EcoAccountBinding.objects.get(account_id="acc-sandbox")
    assert (binding.status, binding.customer, binding.decided_manually) == (BindingStatus.BOUND, acme, True)
