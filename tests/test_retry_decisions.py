"""One way to decide a retry (hireops.feishu_calls.failures.judge), proved against the sandbox.

Only HTTP >= 500, timeouts and rate limits are tried again; a refusal (1002001 with HTTP 400
included), a configuration error and the monthly quota (99991403, whatever its HTTP status)
are final and shown to staff, and the quota stops every call of the app until it renews.
"""

import pytest
from django.core.management import call_command

from hireops.core.models import CallStatus
from referrals.accounts.services import account_register, account_status_request, balances_pull_all, person
from referrals.models import AccountStatus, StatusAction
from referrals.withdrawals.services import withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)

WITHDRAW = "/open-apis/hire/v1/referral_account/*/withdraw"
TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
QUOTA_MSG = "This month's API call quota has been exceeded"


def calls(sandbox, pattern_end: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].endswith(pattern_end)]


def test_a_400_with_1002001_is_a_refusal_and_is_not_retried(sandbox, register):
    account = register(points=10)
    sandbox.add_fault(WITHDRAW, "error", status=400, code=1002001, msg="参数错误或系统异常")
    w = withdrawal_request(account, [1])
    w.refresh_from_db()
    assert (w.status, w.error_code, w.attempts) == (CallStatus.FAILED, 1002001, 1)
    assert "It is not retried" in w.error and w.log_id
    assert len(calls(sandbox, "/withdraw")) == 1  # neither the client nor the task tried again


def test_a_5xx_is_retried_with_the_same_order_id(sandbox, register):
    account = register(points=10)
    sandbox.add_fault(WITHDRAW, "error", count=2, status=500, code=1002001, msg="系统错误")
    w = withdrawal_request(account, [1])
    w.refresh_from_db()
    assert (w.status, w.withdrawn_points, w.error) == (CallStatus.SUCCEEDED, 10, "")
    sent = calls(sandbox, "/withdraw")
    assert [r["status"] for r in sent] == [500, 500, 200]
    assert {r["json"]["external_order_id"] for r in sent} == {w.external_order_id}


@pytest.mark.parametrize("status", [429, 400])
def test_the_monthly_quota_stops_every_call_and_is_shown_to_staff(sandbox, register, admin_client, status):
    first = register(name="王小明", email="xiaoming@example.com", points=10)
    second = register(name="李娜", email="na.li@example.com")
    sandbox.add_fault(WITHDRAW, "error", status=status, code=99991403, msg=QUOTA_MSG)

    w = withdrawal_request(first, [1])
    w.refresh_from_db()
    assert (w.status, w.error_code) == (CallStatus.FAILED, 99991403)
    assert "used up this month's API call quota" in w.error
    assert len(calls(sandbox, "/withdraw")) == 1  # not retried, not even by the client

    # Every later call of the app is refused here, without a request, and says why.
    sent = len(sandbox.requests())
    account_status_request(second, StatusAction.DEACTIVATE)
    second.refresh_from_db()
    assert second.status == AccountStatus.ACTIVE and second.pending_action == ""
    assert "used up this month's API call quota" in second.action_error
    assert balances_pull_all() == (0, 1)  # the pass stops at the first account instead of trying all
    assert len(sandbox.requests()) == sent

    page = admin_client.get("/admin/").content.decode()
    assert "Calls to Feishu are stopped" in page
    call_command("feishu_quota", "--resume")
    assert "Calls to Feishu are stopped" not in admin_client.get("/admin/").content.decode()
    assert balances_pull_all() == (2, 0)


def test_a_configuration_error_is_final_and_says_what_to_fix(sandbox, settings):
    sandbox.add_employee(name="王小明", email="xiaoming@example.com")
    settings.FEISHU_APP_SECRET = "not-the-apps-secret"
    account = account_register(person(name="王小明", email="xiaoming@example.com"))
    account.refresh_from_db()
    assert (account.status, account.error_code) == (AccountStatus.FAILED, 10015)
    assert "app secret is wrong" in account.error
    assert len(sandbox.requests(TOKEN)) == 1  # not fetched again five times
