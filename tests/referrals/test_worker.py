"""Every referrals task executed by a real ``celery worker`` process against the sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.core.models import CallStatus
from referrals import tasks
from referrals.accounts.services import account_register, account_status_request, person
from referrals.models import (
    AccountStatus,
    AccountStatusChange,
    ReconciliationRun,
    ReferralAccount,
    StatusAction,
    Withdrawal,
)
from referrals.withdrawals.services import reconciliation_request, withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)


def test_referral_tasks_in_a_real_worker(sandbox, celery_worker):
    sandbox.add_employee(name="Worker 测试", email="worker@example.com")
    account = account_register(person(name="Worker 测试", email="worker@example.com"))  # register_account
    celery_worker(
        lambda: ReferralAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE, what="registered"
    )
    account.refresh_from_db()

    sandbox.grant_bonus(account.account_id, point_bonus=64)
    hour_ago = timezone.now() - timedelta(hours=1)  # due: confirmed longer ago than pulls.FRESH
    ReferralAccount.objects.filter(pk=account.pk).update(balance_synced_at=hour_ago)
    tasks.pull_balances.delay()  # the schedule's tick, which queues pull_balance_batch
    celery_worker(lambda: ReferralAccount.objects.get(pk=account.pk).points == 64, what="balance pulled")
    sandbox.grant_bonus(account.account_id, point_bonus=6)
    tasks.pull_balance.delay(account.pk)  # staff's "Pull balance"
    celery_worker(lambda: ReferralAccount.objects.get(pk=account.pk).points == 70, what="pulled on request")

    start = timezone.now() - timedelta(minutes=1)
    w = withdrawal_request(ReferralAccount.objects.get(pk=account.pk), [1])  # withdraw
    celery_worker(lambda: Withdrawal.objects.get(pk=w.pk).status == CallStatus.SUCCEEDED, what="withdrawn")

    run = reconciliation_request(start, timezone.now() + timedelta(minutes=1))  # reconcile
    celery_worker(lambda: ReconciliationRun.objects.get(pk=run.pk).status == "succeeded", what="reconciled")
    assert ReconciliationRun.objects.get(pk=run.pk).mismatch_count == 0

    tasks.reconcile_yesterday.delay()
    celery_worker(lambda: ReconciliationRun.objects.count() == 2, what="scheduled reconciliation queued")
    celery_worker(lambda: ReconciliationRun.objects.latest("pk").status == "succeeded", what="it ran")

    account_status_request(
        ReferralAccount.objects.get(pk=account.pk), StatusAction.DEACTIVATE
    )  # change_status
    celery_worker(
        lambda: ReferralAccount.objects.get(pk=account.pk).status == AccountStatus.DEACTIVATED,
        what="deactivated",
    )

    # A change whose task was lost (committed, never queued), waiting long enough for the sweep.
    stale = timezone.now() - timedelta(minutes=5)
    AccountStatusChange.objects.create(account=account, action=StatusAction.ENABLE)
    AccountStatusChange.objects.filter(status=CallStatus.QUEUED).update(requested_at=stale)
    ReferralAccount.objects.filter(pk=account.pk).update(pending_action=StatusAction.ENABLE)
    tasks.sync_pending.delay()
    celery_worker(
        lambda: ReferralAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE,
        what="pending change finished by the sync task",
    )
