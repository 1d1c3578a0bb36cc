"""The seeded demo on a 1366 px laptop screen, in Chinese: the main lists fit and read well."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from sandbox.state import DEMO_DIRECTORY

from .admin_ui import activate_authenticator_app, expect, screenshot, submit_password

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
    printed = StringIO()
    call_command("bootstrap_demo", password="Pw-123456!", stdout=printed)
    # What ./dev run printed: the login, and the link that sets up its second factor.
    (link,) = re.findall(r"https?://[^/\s]+(/accounts/second-factor/link/\S+/)", printed.getvalue())
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=LAPTOP)
    page = context.new_page()
    try:
        # The newcomer's first sign-in: the password, the guide, the link, the authenticator app.
        submit_password(page, "admin", "Pw-123456!")
        expect(page.locator("#enrol-proof")).to_be_visible()
        screenshot(page, "first-sight-0-enrol-guide-1366-zh")
        page.goto(link)
        page.locator("#enrol-totp").click()
        activate_authenticator_app(page, button="激活")
        page.goto("/admin/")
        expect(page.locator("#user-tools")).to_contain_text("admin")
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
