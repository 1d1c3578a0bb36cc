"""HR in the browser: register a referral account, see a bonus arrive, withdraw it (in Chinese)."""

import pytest
from django.core.cache import cache

from hireops.core.models import CallStatus
from referrals.accounts.services import account_register, balance_pull, person
from referrals.models import AccountStatus, ReferralAccount, Withdrawal
from referrals.selectors import HELD_TOTALS_KEY

from .admin_ui import expect, log_in, reload_until, row, run_action, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME, EMAIL, MOBILE = "王小明", "xiaoming@example.com", "13800138000"


@pytest.fixture
def active_account(sandbox):
    """An employee Feishu knows, registered (eager Celery: active on return)."""
    sandbox.add_employee(name=NAME, email=EMAIL, mobile={"code": "86", "number": MOBILE})
    account = account_register(person(name=NAME, email=EMAIL))
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE, account.error
    return account


def test_register_a_referral_account_through_the_admin_form(page, sandbox, staff_user):
    sandbox.add_employee(name=NAME, email=EMAIL, mobile={"code": "86", "number": MOBILE})
    log_in(page, staff_user("HR"))
    page.goto("/admin/referrals/referralaccount/")
    page.locator("#content-main .object-tools a.addlink").click()
    page.locator("#id_name").fill(NAME)
    page.locator("#id_mobile_number").fill("138 0013 8000")  # as people type it
    screenshot(page, "register-1-form")
    page.locator("input[name=_save]").click()

    expect(page.locator("ul.messagelist .success")).to_contain_text("was added successfully")
    registered = row(page, NAME)
    expect(registered).to_contain_text("+86 138****8000")  # HR sees mobiles masked
    reload_until(page, registered.locator(".field-state", has_text="Active"))
    screenshot(page, "register-2-active")

    account = ReferralAccount.objects.get()
    assert (account.mobile_code, account.mobile_number, account.status) == (
        "86",
        MOBILE,
        AccountStatus.ACTIVE,
    )
    assert account.account_id in {a["account_id"] for a in sandbox.state()["accounts"]}


def test_bonus_granted_in_feishu_shows_as_the_balance(page, feishu, active_account, staff_user):
    log_in(page, staff_user("HR"))
    feishu.grant_bonus(
        active_account.account_id, point_bonus=120, cash=[{"currency_type": "CNY", "amount": "12.50"}]
    )
    page.goto("/admin/referrals/referralaccount/")
    reload_until(page, row(page, NAME).locator(".field-points", has_text="120"))
    expect(row(page, NAME).locator(".field-cash_display")).to_have_text("12.50 CNY")
    screenshot(page, "bonus-1-balance-in-list")

    row(page, NAME).get_by_role("link", name=NAME).click()
    history = page.locator("#balance_history-group tbody tr").first
    expect(history).to_contain_text("Feishu event")
    expect(history.locator(".field-points")).to_have_text("120")
    screenshot(page, "bonus-2-account-with-history")
    # The dashboard's totals are counted every 5 minutes and say when (the cache another
    # test or an earlier visit filled may predate the bonus): a fresh count shows it.
    cache.delete(HELD_TOTALS_KEY)
    page.goto("/admin/")
    expect(page.locator("#attention")).to_contain_text("Totals held counted at")
    expect(page.locator("#attention")).to_contain_text("Cash held by active accounts (CNY)")
    expect(page.locator("#attention tr", has_text="Points held by active accounts")).to_contain_text("120")
    screenshot(page, "bonus-3-dashboard-totals")


def test_withdraw_the_full_balance_after_confirmation_in_chinese(
    zh_page, sandbox, active_account, staff_user
):
    page = zh_page
    sandbox.grant_bonus(
        active_account.account_id, point_bonus=300, cash=[{"currency_type": "CNY", "amount": "88.80"}]
    )
    balance_pull(active_account.pk)

    page.goto("/admin/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    screenshot(page, "withdraw-zh-0-login")
    log_in(page, staff_user("HR", "HR withdrawals"))
    expect(page.locator("#attention h2")).to_have_text("待处理事项")
    screenshot(page, "withdraw-zh-1-dashboard")
    page.goto("/admin/referrals/referralaccount/")
    expect(page.locator("#content h1")).to_contain_text("内推账户")
    screenshot(page, "withdraw-zh-2-accounts")

    run_action(page, NAME, "withdraw")
    confirm = page.locator("#content")
    expect(confirm.locator("h1")).to_have_text("全额提现")
    expect(confirm).to_contain_text("此操作无法撤销")
    account_row = confirm.locator("tbody tr", has_text=NAME)
    expect(account_row).to_contain_text("300")
    expect(account_row).to_contain_text("88.80 CNY")
    screenshot(page, "withdraw-zh-3-confirmation")
    confirm.locator("input[type=submit][value=提现]").click()

    expect(page.locator("ul.messagelist .success")).to_contain_text(f"{NAME}：已发起提现（单号")
    page.goto(f"/admin/referrals/referralaccount/{active_account.pk}/change/")
    withdrawal = page.locator("#withdrawals-group tbody tr").first
    reload_until(page, withdrawal.locator("td", has_text="成功"))
    expect(withdrawal).to_contain_text("88.80 CNY")
    expect(page.locator(".field-points .readonly")).to_have_text("0")
    screenshot(page, "withdraw-zh-4-withdrawn")

    w = Withdrawal.objects.get()
    assert (w.status, w.withdrawn_points, w.withdrawn_cash) == (
        CallStatus.SUCCEEDED,
        300,
        {"CNY": "88.80"},
    )
    feishu_account = next(
        a for a in sandbox.state()["accounts"] if a["account_id"] == active_account.account_id
    )
    assert feishu_account["assets"]["confirmed_bonus"]["point_bonus"] == 0
