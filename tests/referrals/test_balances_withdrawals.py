"""Balances, withdrawals, enable/deactivate and reconciliation against the sandbox."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from hireops.core.models import CallStatus
from hireops.events.models import FeishuEvent
from referrals.accounts.balances import balance_pull, now_ms
from referrals.accounts.services import StatusChangeRefused, account_register, account_status_request, person
from referrals.models import AccountRegistration, AccountStatus, StatusAction, Withdrawal
from referrals.sync import sync_pending
from referrals.withdrawals.services import WithdrawalRefused, reconciliation_request, withdrawal_request
from tests.events.payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed
from tests.second_factor import give_totp

from .conftest import WITHDRAW, reload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def assets_event(client, account_id, modify_time, points, cny="0.00", event_id=None):
    payload = {
        "schema": "2.0",
        "header": {
            "event_id": event_id or f"assets-{account_id}-{modify_time}",
            "token": TOKEN,
            "event_type": "hire.referral_account.assets_update_v1",
            "create_time": str(modify_time),
            "app_id": "cli_test",
            "tenant_key": "demo-tenant",
        },
        "event": {
            "account_id": account_id,
            "modify_time": str(modify_time),
            "assets": {
                "confirmed_bonus": {
                    "point_bonus": points,
                    "cash_bonus": [{"currency_type": "CNY", "amount": cny}],
                }
            },
        },
    }
    body, headers = signed(payload)
    assert post_delivery(client, body, headers).status_code == 200


def wait_for_requests(sandbox, path, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(calls := sandbox.requests(path)) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return calls


def test_out_of_order_and_duplicate_events_converge_to_newest(client, register):
    account = register()
    base = now_ms()
    for t, points in [(base + 3, 300), (base + 1, 100), (base + 2, 200), (base + 3, 300), (base + 1, 100)]:
        assets_event(client, account.account_id, t, points, cny=f"{points / 100:.2f}")
    account = reload(account)
    assert (account.points, account.assets_modify_time) == (300, base + 3)
    assert account.cash.get().amount == Decimal("3.00")
    assert [c.source for c in account.balance_history.all()] == ["event", "registration"]
    assert FeishuEvent.objects.filter(event_type="hire.referral_account.assets_update_v1").count() == 3


def test_event_for_unknown_account_fails_and_is_retried(client):
    assets_event(client, "unknown-account", now_ms(), 5)
    event = FeishuEvent.objects.get()
    assert event.status == "failed" and "not registered here" in event.last_error


def test_pull_applies_when_newer_and_never_overwrites_a_newer_event(client, register, sandbox):
    account = register(points=50, cash=[{"currency_type": "CNY", "amount": "12.50"}])
    assert balance_pull(account.pk) is True
    account = reload(account)
    assert account.points == 50 and account.cash.get().amount == Decimal("12.50")

    future = now_ms() + 60_000  # an event Feishu stamped after the pull below starts
    assets_event(client, account.account_id, future, 999)
    sandbox.grant_bonus(account.account_id, point_bonus=1)
    assert balance_pull(account.pk) is False
    assert reload(account).points == 999


def test_withdrawal_retried_after_timeout_withdraws_once(register, sandbox, settings, admin_user):
    account = register(points=120, cash=[{"currency_type": "CNY", "amount": "8.80"}])
    balance_pull(account.pk)
    settings.FEISHU_TIMEOUT = 0.5
    path = WITHDRAW.format(account.account_id)
    sandbox.add_fault(path, "slow", count=1, delay=1.0)  # Feishu acts, but the answer comes too late
    give_totp(admin_user)  # a money permission does nothing until its holder has a second factor
    w = withdrawal_request(reload(account), [1, 2], admin_user)
    w.refresh_from_db()
    assert w.status == CallStatus.SUCCEEDED, w.error
    calls = wait_for_requests(sandbox, path, 2)  # the late first call is logged when it finishes
    assert len(calls) == 2 and {c["json"]["external_order_id"] for c in calls} == {w.external_order_id}
    assert (w.withdrawn_points, w.withdrawn_cash, w.expected_points) == (120, {"CNY": "8.80"}, 120)
    remote = next(a for a in sandbox.state()["accounts"] if a["account_id"] == account.account_id)
    assert remote["assets"]["confirmed_bonus"]["point_bonus"] == 0
    account = reload(account)
    assert account.points == 0 and account.cash.count() == 0
    assert Withdrawal.objects.count() == 1


def test_crash_before_the_answer_is_finished_by_sync_with_the_same_id(register, sandbox, settings):
    account = register(points=70)
    path = WITHDRAW.format(account.account_id)
    sandbox.add_fault(path, "drop", count=100)  # every try loses the connection
    w = withdrawal_request(reload(account), [1])
    w.refresh_from_db()
    assert w.status == CallStatus.QUEUED and "Outcome unknown" in w.error
    with pytest.raises(WithdrawalRefused, match="already has a withdrawal in progress"):
        withdrawal_request(reload(account), [1])
    sandbox.clear_faults()
    call_command("feishu_sync", "--no-pull", "--grace-seconds", "0")
    w.refresh_from_db()
    assert w.status == CallStatus.SUCCEEDED and w.withdrawn_points == 70
    ids = {c["json"]["external_order_id"] for c in sandbox.requests(path) if c.get("json")}
    assert ids == {w.external_order_id}


def test_sync_leaves_fresh_jobs_to_the_worker(sandbox):
    sandbox.add_employee(name="Fresh", email="fresh@example.com")
    with pytest.MonkeyPatch.context() as m:  # the task sits in the broker, as it would with a busy worker
        m.setattr("referrals.tasks.register_account.delay", lambda pk: None)
        account = account_register(person(email="fresh@example.com"))
    assert sync_pending(pull=False)["registrations"] == (0, 0)
    assert sandbox.requests("/open-apis/hire/v1/referral_account") == []
    AccountRegistration.objects.filter(account=account).update(
        requested_at=timezone.now() - timedelta(minutes=3)
    )
    assert sync_pending(pull=False)["registrations"] == (1, 0)
    assert reload(account).status == AccountStatus.ACTIVE


def test_deactivated_account_refuses_and_round_trip(register, sandbox):
    account = register(points=10)
    account_status_request(account, StatusAction.DEACTIVATE)
    account = reload(account)
    assert account.status == AccountStatus.DEACTIVATED and account.pending_action == ""
    with pytest.raises(WithdrawalRefused, match="only active accounts"):
        withdrawal_request(account, [1])
    with pytest.raises(StatusChangeRefused, match="already"):
        account_status_request(account, StatusAction.DEACTIVATE)
    account_status_request(account, StatusAction.ENABLE)
    assert reload(account).status == AccountStatus.ACTIVE


def test_feishu_side_deactivation_fails_the_withdrawal_clearly(register, sandbox):
    account = register(points=10)
    from hireops.feishu import get_client, hire

    hire.deactivate_referral_account(get_client(), account.account_id)  # someone did it in Feishu
    w = withdrawal_request(reload(account), [1])
    w.refresh_from_db()
    assert w.status == CallStatus.FAILED and w.error_code == 1002555 and "enable it" in w.error
    assert reload(account).status == AccountStatus.DEACTIVATED


def test_reconciliation_records_mismatches(register, sandbox):
    a, b = register(points=40), register(name="B", email="b@example.com", points=25)
    start = timezone.now() - timedelta(minutes=5)
    withdrawal_request(reload(a), [1])
    wb = withdrawal_request(reload(b), [1])
    Withdrawal.objects.filter(pk=wb.pk).update(withdrawn_points=20)  # our books say 20, Feishu paid 25
    time.sleep(0.01)
    run = reconciliation_request(start, timezone.now() + timedelta(minutes=1))
    run.refresh_from_db()
    assert run.status == "succeeded" and run.mismatch_count == 1
    mismatch = run.mismatches.get()
    assert (mismatch.account_id, mismatch.feishu_withdrawn_points, mismatch.our_points) == (
        b.account_id,
        25,
        20,
    )
    assert {d["account_id"]: d["points"] for d in run.trade_details} == {a.account_id: 40, b.account_id: 20}


def test_admin_withdraw_confirmation_and_permission(register, client, admin_client, django_user_model):
    account = register(points=33)
    balance_pull(account.pk)
    url = "/admin/referrals/referralaccount/"
    page = admin_client.post(url, {"action": "withdraw", "_selected_action": [account.pk]}).content.decode()
    assert "33" in page and "cannot be undone" in page and Withdrawal.objects.count() == 0
    admin_client.post(
        url, {"action": "withdraw", "_selected_action": [account.pk], "apply": "1", "points": "on"}
    )
    assert Withdrawal.objects.get().status == CallStatus.SUCCEEDED
    listing = admin_client.get("/admin/referrals/withdrawal/").content.decode()
    assert '<td class="field-withdrawn_types">points</td>' in listing

    from django.contrib.auth.models import Permission

    clerk = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_referralaccount", "change_referralaccount"])
    )
    client.force_login(clerk)
    page = client.get(url).content.decode()
    assert 'value="enable"' in page and 'value="withdraw"' not in page
    client.post(url, {"action": "withdraw", "_selected_action": [account.pk], "apply": "1", "points": "on"})
    assert Withdrawal.objects.count() == 1  # nothing new: the action is not theirs


def test_a_withdrawal_whose_amounts_cannot_be_stored_is_done_and_says_so(register, sandbox):
    """Feishu's answer is the truth: the withdrawal succeeded; the row keeps no amount it cannot
    hold (1.2e19 points, beyond a bigint) and says why, instead of failing on every retry."""
    account = register(points=12 * 10**18)
    w = withdrawal_request(reload(account), [1])
    w.refresh_from_db()
    assert w.status == CallStatus.SUCCEEDED and w.withdrawn_points is None and w.trans_time
    assert "amounts cannot be stored (12000000000000000000 points)" in w.error
    assert len(sandbox.requests(WITHDRAW.format(account.account_id))) == 1
    # Feishu's reconciliation then reports those points: the run fails, saying why, storing nothing.
    run = reconciliation_request(timezone.now() - timedelta(minutes=5), timezone.now() + timedelta(minutes=1))
    run.refresh_from_db()
    assert run.status == CallStatus.FAILED and run.mismatches.count() == 0
    assert "points that cannot be stored (12000000000000000000" in run.error
