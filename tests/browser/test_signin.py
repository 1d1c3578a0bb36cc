"""Signing in as staff do, in Chromium against the live server and the sandbox's Feishu
authorize page: with Feishu as oneself and as nobody else, a second factor before the admin
opens for whoever can move money, and a superuser resetting a colleague's factors."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount

from tests.conftest import STAFF_PASSWORD
from tests.feishu_login import LI_NA, SUN_LI, WANG_FANG, point_feishu_login_at_the_sandbox, wang_fang_as_staff
from tests.second_factor import give_totp, totp_code

from .admin_ui import (
    activate_authenticator_app,
    enter_second_factor,
    expect,
    log_in,
    open_enrolment_link,
    row,
    run_action,
    screenshot,
    sign_in_with_feishu,
    submit_password,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def feishu_login(sandbox, live_server, settings):
    # The live server speaks plain HTTP; production builds https callbacks (behind TLS).
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
    point_feishu_login_at_the_sandbox(sandbox, settings, live_server.url)
    return sandbox


def sign_out(page) -> None:
    page.locator("#logout-form [type=submit]").click()
    expect(page.locator("#content")).to_contain_text("Logged out")


def test_a_linked_staff_member_signs_in_with_feishu_and_sees_only_their_role(page, feishu_login, staff_user):
    vendor = wang_fang_as_staff(staff_user, "Vendor operations")  # a role with no second factor
    page.goto("/admin/login/")
    expect(page.locator("#feishu-login")).to_contain_text("使用飞书登录 / Sign in with Feishu")
    expect(page.locator("#login-form")).to_be_visible()  # the password form stays beside it
    screenshot(page, "signin-1-login-page")

    sign_in_with_feishu(page, WANG_FANG, shot="signin-2-feishu-authorize")  # linked by company email
    expect(page.locator("#user-tools")).to_contain_text("fang")
    assert SocialAccount.objects.get(provider="feishu").user == vendor
    sign_out(page)

    sign_in_with_feishu(page, WANG_FANG)  # linked now
    expect(page.locator("#user-tools")).to_contain_text("fang")
    content = page.locator("#content-main")
    expect(content.locator("div.app-bindings")).to_be_visible()
    expect(content.locator("div.app-referrals")).to_have_count(0)
    expect(content.locator("div.app-auth")).to_have_count(0)
    screenshot(page, "signin-3-vendor-dashboard")
    assert page.goto("/admin/referrals/referralaccount/").status == 403


@pytest.mark.parametrize(("open_id", "reason"), [(LI_NA, "unknown_user"), (SUN_LI, "other_tenant")])
def test_an_unlinked_feishu_user_and_another_companys_are_refused(
    zh_page, feishu_login, staff_user, open_id, reason
):
    staff_user("HR", username="someone")  # a staff user, but nobody's Feishu identity
    sign_in_with_feishu(zh_page, open_id)
    refused = zh_page.locator("#signin-refused")
    expect(refused).to_have_attribute("data-reason", reason)
    expect(zh_page.locator("h1")).to_have_text("登录被拒绝")
    screenshot(zh_page, f"signin-refused-{reason}")
    zh_page.goto("/admin/")
    expect(zh_page.locator("#login-form")).to_be_visible()  # still signed out
    assert not SocialAccount.objects.exists()


def test_a_withdrawer_enrols_then_enters_a_code_before_the_admin_opens(page, feishu_login, staff_user):
    wang_fang_as_staff(staff_user, "HR", "HR withdrawals")
    sign_in_with_feishu(page, WANG_FANG)
    # Signed in, but the admin does not open: the guide to setting up a second factor does.
    expect(page.locator("#enrol-totp")).to_be_visible()
    expect(page.locator("#signin-continue")).to_have_count(0)  # no way round it offered
    screenshot(page, "signin-4-enrol-guide")
    page.goto("/admin/referrals/referralaccount/")
    expect(page.locator("#enrol-totp")).to_be_visible()

    page.locator("#enrol-totp").click()
    secret = activate_authenticator_app(page, shot="signin-5-enrol-authenticator")
    screenshot(page, "signin-6-recovery-codes")
    page.locator("#signin-continue a").click()
    expect(page.locator("#user-tools")).to_contain_text("fang")
    sign_out(page)

    sign_in_with_feishu(page, WANG_FANG)
    expect(page.locator("input[name=code]")).to_be_visible()  # Feishu alone is not enough
    screenshot(page, "signin-7-code-asked")
    page.goto("/admin/")
    expect(page.locator("#login-form")).to_be_visible()  # not signed in before the code
    sign_in_with_feishu(page, WANG_FANG)
    enter_second_factor(page, secret)
    expect(page.locator("#user-tools")).to_contain_text("fang")
    page.goto("/admin/referrals/referralaccount/")
    expect(page.locator("select[name=action] option[value=withdraw]")).to_have_count(1)


def test_a_superuser_resets_a_colleagues_factors_and_gives_them_an_enrolment_link(
    browser, live_server, page, staff_user, django_user_model
):
    root = django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD)
    lead = staff_user("HR", "HR withdrawals", username="hr-lead")
    give_totp(lead)

    log_in(page, root)  # with the authenticator app's code: a superuser needs one too
    page.goto("/admin/auth/user/")
    expect(row(page, "hr-lead").locator("td.field-second_factor img[alt=True]")).to_be_visible()
    run_action(page, "hr-lead", "reset_second_factor")
    expect(page.locator("ul.messagelist")).to_contain_text("Second factor reset for 1 user.")
    expect(page.locator("ul.messagelist")).to_contain_text("or with an enrolment link from you")
    assert not Authenticator.objects.filter(user=lead).exists()
    screenshot(page, "signin-8-factors-reset-link-offered")
    page.locator("#enrolment-link-form [type=submit]").click()
    link = page.locator("#enrolment-link").input_value()
    assert "/accounts/second-factor/link/" in link
    screenshot(page, "signin-8b-enrolment-link")

    page.goto("/admin/auth/user/?money_without_factor=1")  # who may move money, once enrolled
    expect(row(page, "hr-lead").locator("td.field-money")).to_have_text("without a second factor")
    expect(row(page, "hr-lead").locator("td.field-second_factor img[alt=False]")).to_be_visible()
    page.goto(f"/admin/auth/user/{lead.pk}/history/")
    expect(page.locator("#change-history")).to_contain_text("Reset two-factor authentication")
    expect(page.locator("#change-history")).to_contain_text("Issued an enrolment link")
    expect(page.locator("#change-history")).to_contain_text("root")

    # The colleague, elsewhere: their password, then the link, then their new phone.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    colleague = context.new_page()
    try:
        submit_password(colleague, "hr-lead")
        expect(colleague.locator("#enrol-proof")).to_be_visible()
        colleague.goto(link)
        colleague.locator("#enrol-totp").click()
        activate_authenticator_app(colleague)
        colleague.locator("#signin-continue a").click()
        expect(colleague.locator("#user-tools")).to_contain_text("hr-lead")
    finally:
        context.close()


def test_a_stolen_password_is_guided_away_from_the_authenticator_apps_secret(page, staff_user):
    """The attack docs/second-factor.md tells of, as the attacker would: a payout approver with
    no authenticator yet, their password only, straight to the activation page to scan its
    secret into the thief's phone."""
    approver = staff_user("HR", "HR payout approvals", username="approver")
    submit_password(page, "approver")
    expect(page.locator("#enrol-proof")).to_be_visible()
    expect(page.locator("#enrol-totp")).to_have_count(0)
    for path in ("/accounts/2fa/totp/activate/", "/accounts/2fa/webauthn/add/", "/accounts/reauthenticate/"):
        page.goto(path)
        assert page.url.split("?")[0].endswith("/accounts/second-factor/"), page.url
        expect(page.locator("#enrol-proof")).to_contain_text(
            "Your password alone cannot set up a second factor"
        )
        expect(page.locator("#authenticator_secret")).to_have_count(0)
        expect(page.locator("img[src^='data:image/svg+xml']")).to_have_count(0)  # no QR code
    expect(page.locator("#enrol-ask-link")).to_contain_text("enrolment link an administrator gives you")
    screenshot(page, "signin-12-password-alone-guided")
    assert not Authenticator.objects.filter(user=approver).exists()


def test_a_security_key_is_a_second_factor_too(page, staff_user):
    """WebAuthn through Chromium's virtual authenticator (a security key the browser simulates):
    enrolled from the guide, then asked for at the next sign-in instead of a code."""
    lead = staff_user("HR", "HR withdrawals", username="key-holder")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    submit_password(page, "key-holder")
    open_enrolment_link(page, "key-holder")  # the password alone would not do
    page.locator("#enrol-webauthn").click()
    page.locator("input[name=name]").fill("YubiKey")
    screenshot(page, "signin-9-add-security-key")
    page.locator("#mfa_webauthn_add").click()
    expect(page.locator("#content")).to_contain_text("Recovery Codes")
    assert Authenticator.objects.filter(user=lead, type=Authenticator.Type.WEBAUTHN).exists()
    page.locator("#signin-continue a").click()
    expect(page.locator("#user-tools")).to_contain_text("key-holder")
    sign_out(page)

    submit_password(page, "key-holder")
    page.get_by_role("link", name="Use a security key").click()
    page.locator("#mfa_webauthn_reauthenticate").click()
    expect(page.locator("#user-tools")).to_contain_text("key-holder")


# Each button on the page has the admin's look (hireops/admin.css, allauth's elements): its
# background is the admin's button colour, not the browser's grey.
BUTTONS_STYLED = """() => {
    const probe = document.createElement('div');
    document.body.append(probe);
    const admin = ['--button-bg', '--default-button-bg', '--delete-button-bg'].map(v => {
        probe.style.background = `var(${v})`;
        return getComputedStyle(probe).backgroundColor;
    });
    probe.remove();
    const buttons = '#content button:not(.allauth-link), #content .button:not(.allauth-link)';
    return [...document.querySelectorAll(buttons)]
        .filter(b => b.offsetParent !== null)
        .map(b => [b.innerText.trim(), admin.includes(getComputedStyle(b).backgroundColor)]);
}"""


def test_a_password_sign_in_in_chinese_asks_for_the_code_on_pages_styled_like_the_admin(
    zh_page, django_user_model
):
    """allauth's pages, as shipped, had the browser's bare buttons and a secret field too narrow
    for the key; a password sign-in landed on "确认访问 – 请重新验证", whose "使用您的密码"
    only led back to it."""
    page = zh_page
    django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD)
    submit_password(page, "root")
    open_enrolment_link(page, "root")  # the password alone would not do
    page.locator("#enrol-totp").click()
    secret_field = page.locator("#authenticator_secret")
    secret = secret_field.input_value()
    assert len(secret) == 32
    shown = secret_field.evaluate("e => [e.scrollWidth <= e.clientWidth, getComputedStyle(e).fontFamily]")
    assert shown[0], "the authenticator's secret is cut off"
    assert "monospace" in shown[1]
    assert all(styled for _, styled in page.evaluate(BUTTONS_STYLED))
    screenshot(page, "signin-10-activate-zh")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="激活").click()
    expect(page.locator("#content h1")).to_have_text("恢复代码")
    buttons = page.evaluate(BUTTONS_STYLED)
    assert buttons and all(styled for _, styled in buttons), buttons
    page.goto("/admin/")
    page.locator("#logout-form [type=submit]").click()

    submit_password(page, "root")
    expect(page.locator("#content h1")).to_have_text("登录：第二验证因素")
    expect(page.locator("#content")).not_to_contain_text("使用您的密码")
    expect(page.locator("#content")).not_to_contain_text("确认身份")
    expect(page.locator("#signin-sign-out")).to_contain_text("退出登录")
    assert all(styled for _, styled in page.evaluate(BUTTONS_STYLED))
    screenshot(page, "signin-11-code-step-zh")
    enter_second_factor(page, secret)
    expect(page.locator("#user-tools")).to_contain_text("root")
