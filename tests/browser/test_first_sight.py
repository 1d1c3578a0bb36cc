"""The seeded demo on a 1366 px laptop screen, in Chinese: the main lists fit and read well."""

import pytest
from django.core.management import call_command

from sandbox.state import DEMO_DIRECTORY

from .admin_ui import expect, log_in_as, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
LISTS = {
    "dashboard": "/admin/",
    "bindings": "/admin/bindings/ecoaccountbinding/",
    "referral-accounts": "/admin/referrals/referralaccount/",
    "events": "/admin/events/feishuevent/",
    "custom-fields": "/admin/bindings/customfielddefinition/",
    "withdrawals": "/admin/referrals/withdrawal/",
}


def test_the_demo_lists_fit_a_laptop_screen_in_chinese(browser, live_server, sandbox, settings):
    settings.DEBUG, settings.SANDBOX_DIRECTORY_FILE, settings.LANGUAGE_CODE = (
        True,
        str(DEMO_DIRECTORY),
        "zh-hans",
    )
    call_command("bootstrap_demo", password="Pw-123456!")
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=LAPTOP)
    page = context.new_page()
    try:
        log_in_as(page, "admin")
        for name, url in LISTS.items():
            page.goto(url)
            expect(page.locator("#content")).to_be_visible()
            screenshot(page, f"first-sight-{name}-1366-zh")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow} px wider than a 1366 px screen"
        page.goto("/admin/events/feishuevent/")
        expect(page.locator("#result_list")).to_contain_text("内推账户余额变更")
        page.goto("/admin/bindings/ecoaccountbinding/")
        expect(page.locator("#result_list")).to_contain_text("Acme 科技")
    finally:
        context.close()
