"""HR's actions in the change history: who registered, withdrew, enabled, retried, pulled."""

import io

import pytest
from django.contrib.admin.models import ADDITION, CHANGE

from hireops.core.models import CallStatus
from referrals.models import AccountStatus, ReconciliationRun, ReferralAccount, Withdrawal
from tests.test_history import entries, read

URL = "/admin/referrals/referralaccount/"
MOBILE, EMAIL = "13800138000", "fang@example.com"


def post_action(client, action, pks, url=URL, **data):
    resp = client.post(url, {"action": action, "_selected_action": pks, **data})
    assert resp.status_code == 302, resp.content.decode()[:3000]


def active_account(**kw) -> ReferralAccount:
    return ReferralAccount.objects.create(
        name="王芳", email=EMAIL, mobile_code="86", mobile_number=MOBILE, account_id="acc-1",
        status=AccountStatus.ACTIVE, points=40, **kw,
    )  # fmt: skip


@pytest.mark.django_db  # the tasks these actions queue run on commit, i.e. never here: no Feishu call
def test_hr_actions_are_recorded_on_the_account(client, staff_user):
    hr = staff_user("HR", "HR withdrawals", username="hanna")
    client.force_login(hr)
    account = active_account()
    failed = ReferralAccount.objects.create(name="李娜", email="na@example.com", status=AccountStatus.FAILED)

    post_action(client, "withdraw", [account.pk], apply=1, points="on")
    post_action(client, "deactivate", [account.pk])
    post_action(client, "retry_registration", [failed.pk, account.pk])  # only the failed one is retried

    withdrawn, deactivated = entries(account)
    order = Withdrawal.objects.get().external_order_id
    assert {withdrawn.user, deactivated.user} == {hr} and withdrawn.action_flag == CHANGE
    assert read(withdrawn) == (
        f"Withdrawal requested (order id {order}).",
        f"已发起提现（外部订单号 {order}）。",
    )
    assert read(deactivated) == ("Deactivation requested.", "已发起停用。")
    (retried,) = entries(failed)
    assert retried.user == hr and read(retried) == ("Registration retried.", "已重新发起注册。")

    # The account's History page and the change history show it, without the mobile or email.
    for url in (f"{URL}{account.pk}/history/", "/admin/core/changehistoryentry/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
        assert f"已发起提现（外部订单号 {order}）。" in page and "已发起停用。" in page, url
        assert MOBILE not in page and EMAIL not in page and "138****8000" not in page, url


@pytest.mark.django_db
def test_registrations_and_reconciliation_are_recorded_as_additions(client, staff_user):
    hr = staff_user("HR", username="hanna")
    client.force_login(hr)
    form = {"name": "陈静", "mobile_code": "86", "mobile_number": "13800001003", "email": ""}
    assert client.post(f"{URL}add/", form).status_code == 302
    (added,) = entries(ReferralAccount.objects.get(name="陈静"))  # the admin logs its own add form
    assert (added.user, added.action_flag, read(added)) == (hr, ADDITION, ("Added.", "已添加。"))

    upload = io.BytesIO("name,mobile,email\n王芳,13800138000,\n,,bad\n".encode())
    upload.name = "accounts.csv"
    assert client.post("/admin/referrals/referralaccount/import/", {"file": upload}).status_code == 200
    (imported,) = entries(ReferralAccount.objects.get(name="王芳"))
    assert (imported.user, imported.action_flag, imported.object_repr) == (hr, ADDITION, "王芳")
    assert read(imported) == (
        "Added from a CSV import; registration queued.",
        "通过 CSV 导入添加，已加入注册队列。",
    )

    window = {"start": "2026-11-01", "end": "2026-11-02"}
    resp = client.post("/admin/referrals/reconciliationrun/add/", window)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    (requested,) = entries(ReconciliationRun.objects.get())  # the admin logs its own add form
    assert (requested.user, requested.action_flag) == (hr, ADDITION)
    assert read(requested) == ("Added.", "已添加。")


@pytest.mark.django_db(transaction=True)
def test_balance_pull_and_withdrawal_retry_are_recorded(client, staff_user, register, sandbox):
    account = register(points=30)
    pending = Withdrawal.objects.create(account=account, external_order_id="order-7", bonus_types=[1])
    hr = staff_user("HR", "HR withdrawals", username="hanna")
    client.force_login(hr)

    synced = account.balance_synced_at
    post_action(client, "pull_balance", [account.pk])
    (pulled,) = entries(account)
    assert pulled.user == hr and read(pulled) == (
        "Balance pull from Feishu requested.",
        "已请求从飞书拉取余额。",
    )
    account.refresh_from_db()
    assert account.balance_synced_at > synced  # queued on commit, run (eagerly) after it

    post_action(client, "retry_now", [pending.pk], url="/admin/referrals/withdrawal/")
    (retried,) = entries(pending)
    assert retried.user == hr and retried.object_repr == "order-7"
    assert read(retried) == ("Retried now with the same order id.", "已使用同一订单号立即重试。")
    pending.refresh_from_db()
    assert pending.status == CallStatus.SUCCEEDED and pending.withdrawn_points == 30
