"""Leavers: an employee leaves in the sandbox's directory, the event comes through the
real webhook (signed, encrypted) into the inbox, and the policy is applied, with Feishu's side
checked in the sandbox."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.publisher import publisher
from hireops.ops import status
from referrals.leavers import services as leavers
from referrals.models import (
    AccountStatus,
    AccountStatusChange,
    Leaver,
    LeaverHow,
    LeaverMatch,
    LeaverPolicy,
    LeaverState,
    ReferralAccount,
    Withdrawal,
)
from referrals.withdrawals.services import CASH, withdrawal_request
from tests.events.payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed
from tests.second_factor import give_totp

pytestmark = pytest.mark.django_db(transaction=True)

DEACTIVATE_PATH = "/open-apis/hire/v1/referral_account/*/deactivate"


def wait(condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached")


@pytest.fixture
def feishu(sandbox, settings, live_server):
    """The sandbox pushing to this back-office's webhook, signed and encrypted."""
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN
    sandbox.configure(
        webhook_url=live_server.url + "/feishu/events/", encrypt_key=ENCRYPT_KEY, verification_token=TOKEN
    )
    return sandbox


def settle(feishu) -> None:
    """Every push answered and every stored event processed (eager Celery: with what it queued)."""
    assert feishu.server.pusher.wait_idle(15)
    assert publisher.flush()


def user_id_of(feishu, account) -> str:
    return next(a["user_id"] for a in feishu.state()["accounts"] if a["account_id"] == account.account_id)


def remote(feishu, account) -> dict:
    return next(a for a in feishu.state()["accounts"] if a["account_id"] == account.account_id)


def funded(feishu, register, points=10, cash="12.50", **who):
    account = register(
        points=points, cash=[{"currency_type": "CNY", "amount": cash}] if cash else None, **who
    )
    settle(feishu)  # the balance event applied
    account.refresh_from_db()
    assert account.points == points
    return account


def calls(feishu, suffix: str) -> list[dict]:
    return [r for r in feishu.requests() if r["path"].endswith(suffix) and r["status"] == 200]


def test_deactivate_policy_records_the_balance_and_deactivates(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    account = funded(feishu, register)
    event = feishu.employee_leave(user_id_of(feishu, account), how="resign")
    settle(feishu)

    leaver = Leaver.objects.get()
    assert (leaver.match, leaver.account_id, leaver.how) == (
        LeaverMatch.MATCHED,
        account.pk,
        LeaverHow.RESIGNED,
    )
    assert (leaver.policy, leaver.points_then, leaver.cash_then) == ("deactivate", 10, {"CNY": "12.50"})
    assert leaver.state == LeaverState.DONE and leaver.done_at
    assert leaver.source_event_id == event["header"]["event_id"]
    assert ReferralAccount.objects.get(pk=account.pk).status == AccountStatus.DEACTIVATED
    assert remote(feishu, account)["status"] == 2  # deactivated in Feishu, balance untouched
    assert remote(feishu, account)["assets"]["confirmed_bonus"]["point_bonus"] == 10
    assert not calls(feishu, "/withdraw")
    assert FeishuEvent.objects.get(event_id=leaver.source_event_id).status == EventStatus.PROCESSED


def test_at_once_withdraws_the_cash_then_deactivates(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.AT_ONCE
    account = funded(feishu, register)
    feishu.employee_leave(user_id_of(feishu, account), how="delete")
    settle(feishu)

    leaver = Leaver.objects.get()
    assert (leaver.how, leaver.policy, leaver.state) == (LeaverHow.DELETED, "at_once", LeaverState.DONE)
    assert leaver.cash_then == {"CNY": "12.50"}
    withdrawal = Withdrawal.objects.get()
    assert leaver.withdrawal == withdrawal
    assert (withdrawal.status, withdrawal.bonus_types, withdrawal.withdrawn_cash) == (
        CallStatus.SUCCEEDED,
        [CASH],
        {"CNY": "12.50"},
    )
    paid, deactivated = calls(feishu, "/withdraw"), calls(feishu, "/deactivate")
    assert len(paid) == len(deactivated) == 1 and paid[0]["time"] <= deactivated[0]["time"]
    assert remote(feishu, account)["status"] == 2
    assert remote(feishu, account)["assets"]["confirmed_bonus"]["cash_bonus"] == []


def test_next_run_waits_for_the_payout_then_deactivates(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.NEXT_RUN
    account = funded(feishu, register)
    feishu.employee_leave(user_id_of(feishu, account))
    settle(feishu)

    leaver = Leaver.objects.get()
    assert (leaver.state, leaver.cash_then) == (LeaverState.AWAITING_RUN, {"CNY": "12.50"})
    assert list(leavers.awaiting_next_run()) == [account.pk]
    assert remote(feishu, account)["status"] == 1 and not calls(feishu, "/deactivate")

    # The run pays the account: a full-cash withdrawal, whose effect calls account_paid_out.
    withdrawal_request(ReferralAccount.objects.get(pk=account.pk), [CASH])
    settle(feishu)
    leaver.refresh_from_db()
    assert leaver.state == LeaverState.DONE
    assert list(leavers.awaiting_next_run()) == []
    assert remote(feishu, account)["status"] == 2


def test_next_run_is_any_run_prepared_after_the_employee_left(feishu, register, settings, staff_user):
    """The run is prepared for someone else's account; the leaver's is in it all the same,
    paid by the approved run, then deactivated."""
    from hireops.core.auth import roles
    from referrals.payouts import services as payouts

    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.NEXT_RUN
    leaving = funded(feishu, register)
    staying = funded(feishu, register, name="留下", email="stay@example.com")
    feishu.employee_leave(user_id_of(feishu, leaving))
    settle(feishu)
    assert Leaver.objects.get().state == LeaverState.AWAITING_RUN
    preparer = staff_user(roles.HR, username="prep")
    run = payouts.payout_prepare(preparer, pks=[staying.pk])
    assert {line.account_id for line in run.lines.all()} == {leaving.pk, staying.pk}
    approver = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="ok")
    give_totp(approver)  # the approve permission needs a second factor
    payouts.payout_approve(run.pk, approver)
    settle(feishu)
    leaver = Leaver.objects.get()
    assert leaver.state == LeaverState.DONE
    assert run.lines.get(account=leaving).status == CallStatus.SUCCEEDED
    assert (remote(feishu, leaving)["status"], remote(feishu, staying)["status"]) == (2, 1)
    assert list(leavers.awaiting_next_run()) == []


def test_at_once_while_a_run_holds_the_cash_waits_for_that_run_then_deactivates(
    feishu, register, settings, staff_user
):
    """The cash is in an open run's unpaid line, so no withdrawal may take it: the run pays it,
    and the leaver waits for the run, as under next_run, rather than for a person."""
    from hireops.core.auth import roles
    from referrals.payouts import services as payouts

    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.AT_ONCE
    account = funded(feishu, register)
    run = payouts.payout_prepare(staff_user(roles.HR, username="prep"), pks=[account.pk])
    feishu.employee_leave(user_id_of(feishu, account))
    settle(feishu)

    leaver = Leaver.objects.get()
    assert (leaver.state, leaver.error, leaver.withdrawal) == (LeaverState.AWAITING_RUN, "", None)
    assert not Withdrawal.objects.exists() and remote(feishu, account)["status"] == 1
    approver = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="ok")
    give_totp(approver)
    payouts.payout_approve(run.pk, approver)
    settle(feishu)
    leaver.refresh_from_db()
    assert leaver.state == LeaverState.DONE
    assert run.lines.get(account=account).status == CallStatus.SUCCEEDED
    assert remote(feishu, account)["status"] == 2
    assert len(calls(feishu, "/withdraw")) == 1  # the run's line, once


def test_account_paid_out_is_what_a_payout_line_calls(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.NEXT_RUN
    account = funded(feishu, register)
    feishu.employee_leave(user_id_of(feishu, account))
    settle(feishu)
    leavers.account_paid_out(account.pk)  # as the payout line's effect does
    settle(feishu)
    assert Leaver.objects.get().state == LeaverState.DONE
    assert remote(feishu, account)["status"] == 2
    leavers.account_paid_out(account.pk)  # again: nothing more
    assert len(calls(feishu, "/deactivate")) == 1


def test_no_cash_under_a_pay_policy_is_deactivated_straight_away(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.NEXT_RUN
    account = funded(feishu, register, points=5, cash=None)
    feishu.employee_leave(user_id_of(feishu, account))
    settle(feishu)
    leaver = Leaver.objects.get()
    assert (leaver.state, leaver.points_then, leaver.cash_then) == (LeaverState.DONE, 5, {})
    assert remote(feishu, account)["status"] == 2


def test_no_matching_account_is_shown_not_guessed(feishu, register, settings):
    account = funded(feishu, register)
    stranger = feishu.add_employee(name="路人", email="stranger@example.com")
    feishu.employee_leave(stranger["user_id"])
    settle(feishu)
    leaver = Leaver.objects.get()
    assert (leaver.match, leaver.account, leaver.state) == (LeaverMatch.NONE, None, LeaverState.NEEDS_PERSON)
    assert "No referral account matches" in leaver.error
    assert not calls(feishu, "/deactivate") and remote(feishu, account)["status"] == 1

    leavers.leaver_no_account(leaver)
    leaver.refresh_from_db()
    assert (leaver.match, leaver.state) == (LeaverMatch.NO_ACCOUNT, LeaverState.DONE)


def _account(**fields):
    return ReferralAccount.objects.create(status=AccountStatus.ACTIVE, **fields)


def test_several_matching_accounts_are_shown_and_hr_picks_one(feishu, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    emp = feishu.add_employee(
        name="两个账户", email="Two@Example.com", mobile={"code": "86", "number": "13800138001"}
    )
    by_email = _account(name="by email", email="two@example.com", account_id="acc-email")
    by_mobile = _account(
        name="by mobile", mobile_code="86", mobile_number="13800138001", account_id="acc-mobile"
    )
    feishu.employee_leave(emp["user_id"], how="delete")
    settle(feishu)

    leaver = Leaver.objects.get()
    assert (leaver.match, leaver.account, leaver.state) == (
        LeaverMatch.SEVERAL,
        None,
        LeaverState.NEEDS_PERSON,
    )
    assert leaver.candidates == [by_email.pk, by_mobile.pk]
    assert f"#{by_email.pk}" in leaver.error
    assert not AccountStatusChange.objects.exists()

    with pytest.raises(leavers.LeaverRefused):
        leavers.leaver_apply_now(leaver)  # matching again finds the same two: still nobody's guess
    leavers.leaver_match_by_hand(leaver, by_email)
    leaver.refresh_from_db()
    assert (leaver.match, leaver.account, leaver.state) == (
        LeaverMatch.MATCHED,
        by_email,
        LeaverState.DEACTIVATING,
    )
    assert AccountStatusChange.objects.get().account == by_email
    assert ReferralAccount.objects.get(pk=by_mobile.pk).status == AccountStatus.ACTIVE


def test_the_matching_accounts_are_named_and_linked_personal_data_masked_per_reader(client, staff_user):
    """Not "Matching accounts: #3": the name; for an account with no name nor Feishu id yet, its
    email, masked for a reader who may not see personal data."""
    named = _account(name="王芳", email="fang@example.com", account_id="acc-fang")
    nameless = ReferralAccount.objects.create(email="zhao.liu@example.com")  # not registered yet
    leaver = Leaver.objects.create(
        open_id="ou_two", name="两个账户", how=LeaverHow.DELETED, source_event_id="e",
        match=LeaverMatch.SEVERAL, candidates=[named.pk, nameless.pk],
    )  # fmt: skip
    page = f"/admin/referrals/leaver/{leaver.pk}/change/"
    link = '<a href="/admin/referrals/referralaccount/{}/change/">{}</a>'

    client.force_login(staff_user("HR", username="hanna"))
    shown = client.get(page).content.decode()
    assert link.format(named.pk, "王芳") in shown and link.format(nameless.pk, "z***@example.com") in shown
    assert "zhao.liu@example.com" not in shown and f"#{named.pk}" not in shown
    assert "Feishu open_id:" in shown and "Open_id" not in shown
    # The match form asks for an account's number: its page gives it beside each name.
    match = client.post(
        "/admin/referrals/leaver/", {"action": "match_to_account", "_selected_action": [leaver.pk]}
    ).content.decode()
    assert f"{link.format(named.pk, '王芳')} (#{named.pk})" in match
    assert "zhao.liu@example.com" not in match

    client.force_login(staff_user("HR", username="pia", perms=["core.view_personal_data"]))
    assert link.format(nameless.pk, "zhao.liu@example.com") in client.get(page).content.decode()


def test_employee_id_wins_over_email(feishu, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    emp = feishu.add_employee(name="工号", email="id@example.com")
    _account(name="someone else's", email="id@example.com", employee_id="other-user", account_id="acc-1")
    own = _account(name="own", email="own@example.com", employee_id=emp["user_id"], account_id="acc-2")
    feishu.employee_leave(emp["user_id"])
    settle(feishu)
    assert Leaver.objects.get().account == own


def _directory_payload(event_type, event_id, *, user_id="u-twice", email="twice@example.com", resigned=True):
    obj = {
        "open_id": "ou_" + user_id,
        "union_id": "on_" + user_id,
        "user_id": user_id,
        "name": "两次",
        "email": email,
        "status": {"is_resigned": resigned, "is_activated": not resigned},
    }
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": event_type,
            "create_time": "1608725989000",
            "token": TOKEN,
            "app_id": "cli_test",
            "tenant_key": "tenant-x",
        },
        "event": {"object": obj, "old_object": {"open_id": "ou_" + user_id}},
    }


def test_the_same_event_twice_and_both_events_make_one_leaver(client, sandbox, settings):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    account = _account(name="两次", email="twice@example.com", account_id="acc-twice")
    resigned = _directory_payload("contact.user.updated_v3", "ev-resigned")
    for _ in range(2):
        assert post_delivery(client, *signed(resigned)).status_code == 200
    deleted = _directory_payload("contact.user.deleted_v3", "ev-deleted", resigned=False)
    assert post_delivery(client, *signed(deleted)).status_code == 200

    assert FeishuEvent.objects.filter(status=EventStatus.PROCESSED).count() == 2
    leaver = Leaver.objects.get()
    assert (leaver.account, leaver.how, leaver.source_event_id) == (
        account,
        LeaverHow.RESIGNED,
        "ev-resigned",
    )
    assert AccountStatusChange.objects.count() == 1  # one deactivation asked (the sandbox is not here)


def test_an_update_that_is_not_a_resignation_changes_nothing(client, settings):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    _account(name="两次", email="twice@example.com", account_id="acc-twice")
    payload = _directory_payload("contact.user.updated_v3", "ev-renamed", resigned=False)
    assert post_delivery(client, *signed(payload)).status_code == 200
    assert FeishuEvent.objects.get().status == EventStatus.PROCESSED
    assert not Leaver.objects.exists()


def test_an_event_without_an_employee_fails_visibly(client, settings):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    payload = _directory_payload("contact.user.deleted_v3", "ev-empty")
    payload["event"] = {"object": {"name": "nobody"}}
    assert post_delivery(client, *signed(payload)).status_code == 200
    event = FeishuEvent.objects.get()
    assert event.status == EventStatus.FAILED and "names no employee" in event.last_error
    assert not Leaver.objects.exists()


def test_a_refused_deactivation_is_visible_flagged_and_asked_again(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    account = funded(feishu, register)
    feishu.add_fault(DEACTIVATE_PATH, "error", status=400, code=1002553, msg="not found (fault)")
    feishu.employee_leave(user_id_of(feishu, account))
    settle(feishu)

    leaver = Leaver.objects.get()
    assert leaver.state == LeaverState.DEACTIVATING
    assert "Feishu refused the deactivation" in leaver.error
    assert ReferralAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE

    # An hour on, the ops status says a leaver's account was left active.
    Leaver.objects.filter(pk=leaver.pk).update(created_at=timezone.now() - timedelta(hours=2))
    found = {f.key: f for f in status.findings()}
    assert (found["referrals.leavers.active"].value, found["referrals.leavers.active"].ok) == (1, False)
    assert "account_active=1" in found["referrals.leavers.active"].url

    feishu.clear_faults()
    assert leavers.leavers_sweep(retry_after=timedelta(0)) == {"done": 0, "asked_again": 1}
    settle(feishu)
    leaver.refresh_from_db()
    assert (leaver.state, leaver.error) == (LeaverState.DONE, "")
    assert remote(feishu, account)["status"] == 2
    assert {f.key: f for f in status.findings()}["referrals.leavers.active"].ok


def test_mark_handled_is_refused_while_the_account_is_active(settings):
    account = _account(name="active", email="active@example.com", account_id="acc-active")
    leaver = Leaver.objects.create(
        open_id="ou_a", how=LeaverHow.DELETED, source_event_id="e", match=LeaverMatch.MATCHED, account=account
    )
    with pytest.raises(leavers.LeaverRefused):
        leavers.leaver_mark_handled(leaver)


def test_mark_handled_is_kept_on_the_leaver_shown_and_marked_for_the_trend(client, staff_user):
    """What became of the balance is not known then: the leaver says it was marked as handled
    (HR's leavers chart counts it apart), and the month it arrived in is recomputed."""
    from hireops.core import trends
    from hireops.core.trends.models import TrendDirtyBucket
    from referrals.leavers import trend

    leaver = Leaver.objects.create(
        open_id="ou_h", how=LeaverHow.DELETED, source_event_id="e", match=LeaverMatch.NONE
    )
    TrendDirtyBucket.objects.all().delete()
    hr = staff_user("HR", username="hanna")
    leavers.leaver_mark_handled(leaver, hr)
    leaver.refresh_from_db()
    assert (leaver.state, leaver.handled_by_hand) == (LeaverState.DONE, True)
    marked = TrendDirtyBucket.objects.filter(metric=trend.METRIC).values_list("bucket", flat=True)
    assert list(marked) == [trends.hour_of(leaver.created_at)]
    client.force_login(hr)
    page = client.get(f"/admin/referrals/leaver/{leaver.pk}/change/").content.decode()
    assert "Marked as handled:" in page


def test_joiners_get_an_account_when_the_setting_is_on(feishu, settings):
    settings.REFERRAL_REGISTER_JOINERS = True
    emp = feishu.add_employee(name="新人", email="New@Example.com")
    settle(feishu)
    account = ReferralAccount.objects.get()
    assert (account.email, account.employee_id, account.status) == (
        "new@example.com",
        emp["user_id"],
        AccountStatus.ACTIVE,
    )

    settings.REFERRAL_REGISTER_JOINERS = False
    feishu.add_employee(name="另一个", email="other@example.com")
    settle(feishu)
    assert ReferralAccount.objects.count() == 1


def test_joiner_already_registered_is_not_registered_twice(feishu, register, settings):
    account = register(name="老员工", email="old@example.com")
    settle(feishu)  # its own created_v3 handled with the setting off
    settings.REFERRAL_REGISTER_JOINERS = True
    payload = _directory_payload(
        "contact.user.created_v3", "ev-join", user_id="u-old", email="old@example.com", resigned=False
    )
    feishu.server.pusher.push(payload)
    settle(feishu)
    assert list(ReferralAccount.objects.values_list("pk", "employee_id")) == [(account.pk, "u-old")]


def test_the_policy_setting_is_checked(settings):
    settings.REFERRAL_LEAVER_POLICY = "later"
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        leavers.policy()


def test_cash_then_is_kept_as_strings(feishu, register, settings):
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.DEACTIVATE
    account = funded(feishu, register, cash="0.10")
    feishu.employee_leave(user_id_of(feishu, account))
    settle(feishu)
    assert Decimal(Leaver.objects.get().cash_then["CNY"]) == Decimal("0.10")


def test_manage_py_check_refuses_an_unknown_policy(settings):
    from referrals.checks import leaver_policy

    settings.REFERRAL_LEAVER_POLICY = "later"
    assert [e.id for e in leaver_policy()] == ["referrals.E001"]
    settings.REFERRAL_LEAVER_POLICY = "at_once"
    assert leaver_policy() == []


def test_leavers_marked_as_handled_before_the_flag_are_found_in_their_history(staff_user):
    """The migration that adds ``handled_by_hand`` sets it where the change history says
    "Leaver marked as handled.", and nowhere else."""
    import importlib

    from django.apps import apps

    from hireops.core import audit

    migration = importlib.import_module("referrals.migrations.0030_leaver_handled_by_hand")
    handled, other = (
        Leaver.objects.create(
            open_id=f"ou_{n}", how=LeaverHow.DELETED, source_event_id=n, match=LeaverMatch.NONE
        )
        for n in ("handled", "other")
    )
    hr = staff_user("HR", username="hanna")
    audit.record(hr, [handled], leavers.LEAVER_HANDLED)
    audit.record(hr, [other], leavers.LEAVER_NO_ACCOUNT)
    assert migration.HANDLED == leavers.LEAVER_HANDLED
    migration.from_the_history(apps, None)
    assert list(Leaver.objects.filter(handled_by_hand=True)) == [handled]
