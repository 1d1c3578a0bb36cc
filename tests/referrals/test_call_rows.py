"""Registrations and status changes are call rows sent by the outbound engine: each keeps its
attempts, lease, Feishu's answer and log id, is sent by one worker at a time, and a change is
never sent behind a later one. Through the sandbox over HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops import outbound
from hireops.core.models import CallStatus
from hireops.outbound.retry import TryLater
from referrals.accounts import registration, status
from referrals.accounts.services import account_register, account_status_request, person
from referrals.models import AccountRegistration, AccountStatus, AccountStatusChange, StatusAction
from referrals.sync import sync_pending

from .conftest import reload

pytestmark = pytest.mark.django_db(transaction=True)
CREATE = "/open-apis/hire/v1/referral_account"


def test_a_registration_keeps_its_call_with_feishus_log_id(sandbox, staff_user):
    hr = staff_user("HR")
    sandbox.add_employee(name="张三", email="zhangsan@example.com")
    account = reload(account_register(person(name="张三", email="zhangsan@example.com"), hr))
    row = account.registrations.get()
    assert account.status == AccountStatus.ACTIVE and account.attempts == 1
    assert (row.status, row.attempts, row.requested_by, row.leased_until) == (
        CallStatus.SUCCEEDED,
        1,
        hr,
        None,
    )
    assert row.log_id and row.log_id == sandbox.requests(CREATE)[-1]["logid"]
    assert row.finished_at is not None and row.error == ""


def test_a_refused_registration_fails_its_row_and_the_account_and_a_retry_is_a_new_row(sandbox):
    account = reload(account_register(person(email="nobody@example.com")))
    [row] = account.registrations.all()
    assert row.status == CallStatus.FAILED and row.error_code == 1002551
    assert account.status == AccountStatus.FAILED and account.error == row.error
    sandbox.add_employee(name="New Hire", email="nobody@example.com")
    assert registration.registration_retry(account)
    assert [r.status for r in account.registrations.order_by("pk")] == [
        CallStatus.FAILED,
        CallStatus.SUCCEEDED,
    ]


def test_a_registration_held_by_a_worker_is_not_sent_again_until_its_lease_expires(sandbox, monkeypatch):
    sandbox.add_employee(name="Held", email="held@example.com")
    monkeypatch.setattr("referrals.tasks.register_account.delay", lambda pk: None)  # left in the broker
    account = account_register(person(email="held@example.com"))
    row = account.registrations.get()
    now = timezone.now()
    AccountRegistration.objects.filter(pk=row.pk).update(
        requested_at=now - timedelta(minutes=5), leased_until=now + timedelta(minutes=10)
    )
    assert sync_pending(pull=False)["registrations"] == (0, 0)  # a worker holds it, mid-call
    assert sandbox.requests(CREATE) == []
    AccountRegistration.objects.filter(pk=row.pk).update(leased_until=now - timedelta(seconds=1))
    assert sync_pending(pull=False)["registrations"] == (1, 0)  # its worker died: sent once
    assert len(sandbox.requests(CREATE)) == 1 and reload(account).status == AccountStatus.ACTIVE


def test_two_accounts_feishu_calls_one_person_fail_the_second_row_and_account(sandbox):
    sandbox.add_employee(name="C", email="c@example.com", mobile={"code": "86", "number": "13700000000"})
    first = account_register(person(email="c@example.com"))
    second = reload(account_register(person(mobile_number="13700000000")))
    row = second.registrations.get()
    assert row.status == CallStatus.FAILED and f"#{first.pk}" in row.error
    assert second.status == AccountStatus.FAILED and second.error == row.error


def test_a_status_change_keeps_its_call_and_clears_the_pending_change(register, sandbox, staff_user):
    hr = staff_user("HR")
    account = register()
    account_status_request(account, StatusAction.DEACTIVATE, hr)
    account = reload(account)
    row = account.status_changes.get()
    assert account.status == AccountStatus.DEACTIVATED and account.pending_action == ""
    assert (row.action, row.status, row.attempts, row.requested_by) == (
        "deactivate",
        CallStatus.SUCCEEDED,
        1,
        hr,
    )
    assert row.log_id


def test_a_later_change_replaces_one_still_waiting_and_waits_for_one_being_sent(
    register, sandbox, monkeypatch
):
    account = register()
    monkeypatch.setattr("referrals.tasks.change_status.delay", lambda pk: None)  # both left in the broker
    first = account_status_request(account, StatusAction.DEACTIVATE)
    second = account_status_request(reload(account), StatusAction.ENABLE)
    first.refresh_from_db()
    assert first.status == CallStatus.FAILED and "later change" in first.error  # replaced, never sent
    assert reload(account).pending_action == StatusAction.ENABLE

    third = account_status_request(reload(account), StatusAction.DEACTIVATE)  # replaces the second …
    AccountStatusChange.objects.filter(pk=third.pk).update(leased_until=timezone.now() + timedelta(minutes=5))
    second.refresh_from_db()
    assert second.status == CallStatus.FAILED
    fourth = account_status_request(reload(account), StatusAction.ENABLE)  # … but not one being sent
    third.refresh_from_db()
    assert third.status == CallStatus.QUEUED
    with pytest.raises(TryLater):  # one change of an account at a time, in the order asked
        outbound.run(status.CHANGE, fourth.pk)
    assert not [r for r in sandbox.requests() if r["path"].endswith(("/enable", "/deactivate"))]

    AccountStatusChange.objects.filter(pk=third.pk).update(leased_until=None)  # its worker died
    outbound.run(status.CHANGE, third.pk)
    assert reload(account).status == AccountStatus.DEACTIVATED
    assert reload(account).pending_action == StatusAction.ENABLE  # the later change still waits
    outbound.run(status.CHANGE, fourth.pk)
    account = reload(account)
    assert account.status == AccountStatus.ACTIVE and account.pending_action == ""
    sent = [
        r["path"].rsplit("/", 1)[-1]
        for r in sandbox.requests()
        if r["path"].endswith(("/enable", "/deactivate"))
    ]
    assert sent == ["deactivate", "enable"]
