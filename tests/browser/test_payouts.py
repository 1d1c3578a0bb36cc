"""Referral money in the browser, in Chinese: one HR member prepares a payout run, a colleague
approves it with the second factor, it pays, and the payroll file finance downloads matches
Feishu's withdrawals; an employee leaves in Feishu's directory and the policy is applied."""

import csv
import io
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from hireops.core.auth import roles
from hireops.core.models import CallStatus
from referrals.accounts.services import balance_pull
from referrals.models import PayoutRun, PayoutRunStatus, Withdrawal

from . import admin_ui
from .admin_ui import expect, log_in, screenshot
from .conftest import VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = [("王小明", "xiaoming@example.com", "12.50"), ("李娜", "lina@example.com", "30.00")]


@pytest.fixture
def accounts_with_cash(register):
    made = []
    for name, email, amount in PEOPLE:
        account = register(name=name, email=email, cash=[{"currency_type": "CNY", "amount": amount}])
        balance_pull(account.pk)
        made.append(account)
    return made


def test_prepare_approve_pay_and_download_the_payroll_in_chinese(
    zh_page, browser, live_server, sandbox, staff_user, accounts_with_cash, settings
):
    page = zh_page
    # The preparer may approve runs too, but never their own.
    preparer = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="hr-prepare")
    approver = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="hr-approve")

    log_in(page, preparer)
    page.goto("/admin/referrals/payoutrun/add/")
    page.locator("#id_title").fill("十一月内推奖金")
    page.get_by_role("button", name="查看将发放的内容").click()
    preview = page.locator("#payout-preview")
    expect(preview).to_contain_text("王小明")
    expect(page.locator("#content")).to_contain_text("42.50 CNY")
    screenshot(page, "payout-1-preview")
    assert not PayoutRun.objects.exists()  # a preview moves nothing
    page.get_by_role("button", name="准备批次").click()
    expect(page.locator("ul.messagelist .success")).to_contain_text("等待同事审批")
    run = PayoutRun.objects.get()
    expect(page.locator("#run-status")).to_have_text("等待审批")
    expect(page.locator("#run-totals")).to_have_text("42.50 CNY")
    expect(page.locator("#lines")).to_contain_text("李娜")
    expect(page.locator("#preparer-note")).to_contain_text("此批次由你发起")
    expect(page.locator("#decide")).to_have_count(0)
    screenshot(page, "payout-2-prepared")

    # The preparer goes to the decision page anyway: no button to approve or reject with.
    page.goto(f"/admin/referrals/payoutrun/{run.pk}/decide/")
    expect(page.locator("#preparer-note")).to_contain_text("此批次由你发起")
    expect(page.get_by_role("button", name="批准并发放")).to_have_count(0)
    expect(page.get_by_role("button", name="驳回")).to_have_count(0)
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL
    assert not [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]

    # A colleague approves; their code was proved at sign-in, but not minutes ago: asked again.
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=VIEWPORT)
    colleague = context.new_page()
    log_in(colleague, approver)
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 2
    time.sleep(2.5)
    colleague.goto(f"/admin/referrals/payoutrun/{run.pk}/")
    colleague.locator("#decide").click()
    screenshot(colleague, "payout-3-decide")
    colleague.get_by_role("button", name="批准并发放").click()
    expect(colleague.locator("input[name=code]")).to_be_visible()  # the second factor, now
    screenshot(colleague, "payout-4-second-factor")
    admin_ui.enter_second_factor(colleague, admin_ui._SECRETS[approver.username][0])
    expect(colleague.locator("ul.messagelist .success")).to_contain_text("已批准")
    admin_ui.reload_until(colleague, colleague.locator("#run-status", has_text="已结束"))
    expect(colleague.locator("#run-paid-totals")).to_have_text("42.50 CNY")
    expect(colleague.locator("#run-progress")).to_contain_text("已发放 2")
    screenshot(colleague, "payout-5-paid")
    run.refresh_from_db()
    assert (run.decided_by, run.status) == (approver, PayoutRunStatus.FINISHED)

    # Finance's file: each row is a withdrawal Feishu made.
    with colleague.expect_download() as download:
        colleague.locator("#payroll-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))  # fixed column names, whatever the language
    assert rows[0][:6] == [
        "employee_id",
        "employee_name",
        "feishu_account_id",
        "amount",
        "currency",
        "outcome",
    ]
    assert rows[0][8:] == ["prepared_by", "approved_by"]
    withdrawn = {
        r["json"]["external_order_id"] for r in sandbox.requests() if r["path"].endswith("/withdraw")
    }
    assert {row[6] for row in rows[1:]} == withdrawn and len(rows) == 3
    for row in rows[1:]:
        w = Withdrawal.objects.get(external_order_id=row[6], status=CallStatus.SUCCEEDED)
        assert (row[1], Decimal(row[3]), row[4]) == (w.account.name, Decimal(w.withdrawn_cash["CNY"]), "CNY")
        assert row[0] and row[5] == "paid" and row[8:] == ["hr-prepare", "hr-approve"]
    with colleague.expect_download() as download:
        colleague.locator("#payroll-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active  # for people
    header, *lines = sheet.iter_rows(values_only=True)
    assert header[:6] == ("员工 ID", "员工姓名", "飞书账户 ID", "金额", "币种", "结果")
    assert header[8:] == ("准备人", "批准人") and {line[5] for line in lines} == {"已发放"}
    context.close()


def test_run_now_on_the_schedule_does_not_let_its_presser_approve_the_run(
    zh_page, live_server, sandbox, staff_user, accounts_with_cash
):
    """The attacker's path: an HR member who may approve runs (fully signed in, second factor
    included) uses "Run now" on the schedule that prepares the monthly run. The run the worker
    prepares names them as its cause, and its pages offer them nothing to approve it with."""
    from hireops.core.schedules.registry import sync_schedules

    page = zh_page
    person = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="hr-runner")
    sync_schedules()
    log_in(page, person)
    page.goto("/admin/django_celery_beat/periodictask/")
    admin_ui.run_action(page, "内推：准备每月发放批次（等待审批）", "run_tasks")
    expect(page.locator("ul.messagelist")).to_contain_text("已发送 1 个定时任务去运行")
    run = PayoutRun.objects.get()  # prepared in the request's on_commit (tasks are eager here)
    assert (run.scheduled, run.prepared_by, run.run_now_by) == (True, None, person)

    page.goto(f"/admin/referrals/payoutrun/{run.pk}/")
    expect(page.locator("#run-causes")).to_contain_text("hr-runner 对定时任务执行了“立即运行”")
    expect(page.locator("#preparer-note")).to_contain_text("此批次由你发起")
    expect(page.locator("#decide")).to_have_count(0)
    screenshot(page, "payout-run-now-causer")
    page.goto(f"/admin/referrals/payoutrun/{run.pk}/decide/")
    expect(page.get_by_role("button", name="批准并发放")).to_have_count(0)
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL
    assert not [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]


def test_an_employee_leaves_in_feishu_and_hr_sees_the_policy_applied_in_chinese(
    zh_page, feishu, register, staff_user, settings
):
    """The sandbox's directory says 王小明 resigned (a signed, encrypted push to the live
    server's webhook); under the "deactivate" policy the account is deactivated in Feishu, the
    balance at that moment recorded, and HR's leavers queue shows it done."""
    from referrals.models import AccountStatus, Leaver, LeaverPolicy, LeaverState, ReferralAccount

    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    account = register(
        name="王小明", email="xiaoming@example.com", cash=[{"currency_type": "CNY", "amount": "8.80"}]
    )
    balance_pull(account.pk)
    user_id = next(a["user_id"] for a in feishu.state()["accounts"] if a["account_id"] == account.account_id)
    feishu.employee_leave(user_id, how="resign")

    log_in(zh_page, staff_user(roles.HR, username="hr-leavers"))
    zh_page.goto("/admin/referrals/leaver/")
    leaver_row = admin_ui.row(zh_page, "王小明")
    admin_ui.reload_until(zh_page, leaver_row.locator(".field-state", has_text="已完成"))
    expect(leaver_row.locator(".field-balance_then")).to_contain_text("8.80 CNY")
    screenshot(zh_page, "leaver-1-queue")
    leaver = Leaver.objects.get()
    assert (leaver.state, leaver.account_id, leaver.cash_then) == (
        LeaverState.DONE,
        account.pk,
        {"CNY": "8.80"},
    )
    assert ReferralAccount.objects.get(pk=account.pk).status == AccountStatus.DEACTIVATED
    remote = next(a for a in feishu.state()["accounts"] if a["account_id"] == account.account_id)
    assert remote["status"] == 2  # deactivated in Feishu, not only here
