"""The admin in Chromium as production serves it (gunicorn, DEBUG off, after collectstatic):
styled, with the changelist's actions bar and filters working. Its screenshots show an
unstyled admin at a glance, which a server that serves static files itself would hide."""

import pytest

from referrals.models import ReferralAccount
from tests.feishu_login import WANG_FANG, wang_fang_as_staff

from .admin_ui import activate_authenticator_app, expect, log_in, screenshot, sign_in_with_feishu
from .conftest import VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNSTYLED = "rgba(0, 0, 0, 0)"  # a transparent header: base.css did not load


def _style(page, selector: str, prop: str) -> str:
    return page.locator(selector).first.evaluate(f"e => getComputedStyle(e)['{prop}']")


def test_the_production_admin_is_styled(browser, admin_server, staff_user):
    context = browser.new_context(base_url=admin_server, locale="en-US", viewport=VIEWPORT)
    page = context.new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        log_in(page, staff_user("HR"))
        assert _style(page, "#header", "backgroundColor") != UNSTYLED
        screenshot(page, "production-1-index")

        ReferralAccount.objects.create(
            name="王小明", email="xiaoming@example.com", account_id="7300000000000000001", status="active"
        )
        page.goto("/admin/referrals/referralaccount/")
        # changelists.css puts the filters beside the list, not below it.
        expect(page.locator("#changelist-filter")).to_be_visible()
        table = page.locator("#result_list").bounding_box()
        filters = page.locator("#changelist-filter").bounding_box()
        assert filters["x"] > table["x"] and filters["y"] < table["y"] + table["height"]
        expect(page.locator("select[name=action]")).to_be_visible()
        assert page.evaluate("typeof window.Actions") == "function"  # admin/js/actions.js ran
        screenshot(page, "production-2-changelist")
        assert failed == [], failed
    finally:
        context.close()


def test_signing_in_with_feishu_and_enrolling_in_production(
    browser, sandbox, start_admin_server, staff_user, settings
):
    """Feishu's round trip and the second factor's pages as gunicorn serves them with DEBUG off:
    allauth's pages in the admin's styles, its scripts collected, nothing answered 4xx/5xx."""
    wang_fang_as_staff(staff_user, "HR", "HR withdrawals")
    # Plain HTTP on loopback here; behind TLS in production, where the default (https) holds.
    server = start_admin_server(FEISHU_LOGIN_TENANTS="demo-tenant", ACCOUNT_DEFAULT_HTTP_PROTOCOL="http")
    sandbox.register_login_app(
        settings.FEISHU_APP_ID, redirect_uris=[f"{server}/accounts/feishu/login/callback/"]
    )
    context = browser.new_context(base_url=server, locale="en-US", viewport=VIEWPORT)
    page = context.new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        sign_in_with_feishu(page, WANG_FANG)
        page.locator("#enrol-totp").click()
        assert _style(page, "#header", "backgroundColor") != UNSTYLED
        expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()  # the QR code
        activate_authenticator_app(page)
        screenshot(page, "production-3-recovery-codes")
        page.goto("/admin/")
        expect(page.locator("#user-tools")).to_contain_text("fang")

        page.goto("/accounts/2fa/webauthn/add/")  # its scripts are collected and served
        assert page.evaluate("typeof window.allauth") == "object"
        assert failed == [], failed
    except Exception:
        screenshot(page, "FAILED-production-feishu")
        raise
    finally:
        context.close()
