"""One retry budget (docs/feishu.md §11.1): a call that Feishu fails the same way
every time reaches it at most ``ATTEMPTS`` (6) times in all, through the real task; a 429 is
waited out inside one try; an unknown outcome is repeated with the same idempotency key.

Proved against the sandbox over HTTP, with the task run by Celery in-process (its retries
execute at once) and once by a real worker with a short backoff (the retries wait their
countdown in the broker).
"""

import itertools
import time

import pytest

from bindings.models import CustomFieldDefinition, FieldPublish
from bindings.publishing import fields_publish_request, scope_touch
from hireops.core.models import CallStatus
from hireops.outbound.retry import ATTEMPTS, MAX_RETRIES, backoff
from referrals.models import Withdrawal
from referrals.withdrawals.services import withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS_PATH = "/open-apis/hire/v1/eco_account_custom_fields"
WITHDRAW = "/open-apis/hire/v1/referral_account/*/withdraw"


def withdraw_calls(sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]


SYSTEM_ERROR = {"status": 500, "code": 1002001, "msg": "系统错误"}


def a_field_to_publish():
    CustomFieldDefinition.objects.create(scope=1, key="account_token", name_zh="账号令牌", is_required=True)
    scope_touch(1)


def test_the_budget_is_six_tries_spread_by_doubling_backoff(settings):
    settings.FEISHU_RETRY_BACKOFF = 30.0
    assert ATTEMPTS == MAX_RETRIES + 1 == 6
    assert [backoff(n) for n in range(MAX_RETRIES)] == [30, 60, 120, 240, 480]
    assert backoff(10) == 1800  # capped at half an hour


def test_a_publish_failing_every_time_reaches_feishu_six_times_then_says_why(sandbox):
    a_field_to_publish()
    sandbox.add_fault(FIELDS_PATH, "error", count=100, **SYSTEM_ERROR)
    publish = fields_publish_request(1)[0]  # queues bindings.publish_fields, run here by Celery

    publish.refresh_from_db()
    assert len(sandbox.requests(FIELDS_PATH)) == ATTEMPTS == 6  # was 4 client tries × 6 runs = 24
    assert (publish.status, publish.attempts, publish.error_code) == (CallStatus.FAILED, 6, 1002001)
    assert publish.error.startswith("Feishu could not be reached after several tries")
    assert publish.log_id == sandbox.requests(FIELDS_PATH)[-1]["logid"]


def test_a_real_worker_spends_the_budget_with_growing_waits(sandbox, start_celery_worker):
    a_field_to_publish()
    sandbox.add_fault(FIELDS_PATH, "error", count=100, **SYSTEM_ERROR)
    wait = start_celery_worker(FEISHU_RETRY_BACKOFF="0.3")  # 0.3, 0.6, 1.2, 2.4, 4.8 s between tries
    publish = fields_publish_request(1)[0]
    wait(
        lambda: FieldPublish.objects.get(pk=publish.pk).status == CallStatus.FAILED,
        timeout=60,
        what="the publish given up on",
    )
    tries = [r["time"] for r in sandbox.requests(FIELDS_PATH)]
    assert len(tries) == 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    assert all(gap >= 0.3 * 2**n * 0.9 for n, gap in enumerate(gaps)), gaps  # each waited its countdown
    assert gaps == sorted(gaps)  # and each wait longer than the one before


def test_a_429_is_waited_out_within_one_try(sandbox, register):
    account = register(points=10)
    sandbox.add_fault(WITHDRAW, "ratelimit", count=2)
    w = withdrawal_request(account, [1])
    w.refresh_from_db()
    sent = withdraw_calls(sandbox)
    assert [r["status"] for r in sent] == [429, 429, 200]  # Feishu refused twice before acting
    assert (w.status, w.attempts) == (CallStatus.SUCCEEDED, 1)  # one try of the budget


def test_an_unknown_outcome_is_repeated_with_the_same_idempotency_key(sandbox, register, settings):
    account = register(points=10)
    # Feishu takes the withdrawal but answers after the client stopped waiting.
    settings.FEISHU_TIMEOUT = 0.5
    sandbox.add_fault(WITHDRAW, "late", count=1, delay=1.5)
    w = withdrawal_request(account, [1])
    w.refresh_from_db()
    deadline = time.monotonic() + 5  # the late answer is logged once the sandbox sends it
    while len(withdraw_calls(sandbox)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    sent = withdraw_calls(sandbox)
    assert len(sent) == 2 and {r["json"]["external_order_id"] for r in sent} == {w.external_order_id}
    assert (w.status, w.withdrawn_points, w.attempts) == (CallStatus.SUCCEEDED, 10, 2)
    assert Withdrawal.objects.filter(account=account).count() == 1
