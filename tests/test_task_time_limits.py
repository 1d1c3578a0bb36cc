"""Every task has a soft and a hard time limit, so a stuck call cannot hold a worker forever,
and what a limit cuts short is left to be retried, never lost.
"""

import time
from importlib import import_module

import pytest
from django.apps import apps
from django.conf import settings

from config.celery import app as celery_app
from hireops import outbound
from hireops.core.models import CallStatus
from hireops.jobs import services as job_services
from hireops.jobs.models import BulkJob, ItemStatus, JobStatus
from referrals.models import Withdrawal
from referrals.withdrawals.services import withdrawal_request
from tests.second_factor import give_totp


def project_tasks() -> dict:
    """Every task of the project, as a worker registers them (each app's tasks module)."""
    for config in apps.get_app_configs():
        if config.name.startswith(("hireops", "bindings", "referrals", "orders")):
            try:
                import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.tasks":
                    raise
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def limits(task) -> tuple[float | None, float | None]:
    conf = celery_app.conf
    soft = task.soft_time_limit if task.soft_time_limit is not None else conf.task_soft_time_limit
    hard = task.time_limit if task.time_limit is not None else conf.task_time_limit
    return soft, hard


def test_every_task_has_a_soft_limit_below_its_hard_one():
    tasks = project_tasks()
    assert len(tasks) >= 20  # the enumeration finds them all, not an empty list
    for name, task in tasks.items():
        soft, hard = limits(task)
        assert soft and hard and soft < hard, name


def test_a_call_to_feishu_ends_before_its_row_lease_so_no_row_is_sent_twice_at_once():
    tasks = project_tasks()
    # The outbound defaults, or the kind's own pair (a webhook waits 15 s, not Feishu's 429s).
    own = {"webhooks.deliver": (settings.WEBHOOK_TIMEOUT + 15, settings.WEBHOOK_TIMEOUT + 30)}
    default = (settings.OUTBOUND_TASK_SOFT_TIME_LIMIT, settings.OUTBOUND_TASK_TIME_LIMIT)
    for kind in outbound.kinds():
        soft, hard = limits(tasks[kind.name])
        expected = own.get(kind.name, default)
        assert (soft, hard) == expected, kind.name
        assert hard < kind.lease.total_seconds(), kind.name
        if kind.batch > 1:  # a batch's calls end before its rows' leases too
            assert limits(tasks[kind.batch_task_name]) == expected, kind.name
    assert limits(tasks["webhooks.deliver"]) == (settings.WEBHOOK_TIMEOUT + 15, settings.WEBHOOK_TIMEOUT + 30)


def test_a_bulk_job_works_in_slices_shorter_than_its_soft_limit():
    assert job_services.SLICE.total_seconds() < limits(project_tasks()["jobs.run"])[0]


@pytest.mark.django_db(transaction=True)
def test_a_job_run_stops_at_its_slice_and_queues_the_rest(register, admin_user, settings):
    settings.BULK_INLINE_MAX = 2
    give_totp(admin_user)  # withdrawing moves money: nothing until its requester has a second factor
    accounts = [register(name=f"员工{i}", email=f"s{i}@example.com", points=10) for i in (1, 2, 3)]
    job = BulkJob.objects.create(
        kind="referrals.withdraw", requested_by=admin_user, params={"bonus_types": [1]}
    )
    job.items.bulk_create(
        [
            job.items.model(job=job, position=n, object_id=str(a.pk), label=a.name)
            for n, a in enumerate(accounts)
        ]
    )
    # A slice of 0 s: one item, then the rest as a new run (eager Celery runs it at once).
    assert job_services.job_run(job.pk, slice_seconds=0) == JobStatus.RUNNING
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert list(job.items.values_list("status", flat=True)) == [ItemStatus.SUCCEEDED] * 3


@pytest.mark.django_db(transaction=True)
def test_a_call_cut_by_the_soft_limit_is_retried_with_the_same_key(sandbox, register, soft_limit_after):
    account = register(points=10)
    # Feishu takes 3 s to answer; the soft limit comes after 1 s, in the middle of the call.
    sandbox.add_fault("/open-apis/hire/v1/referral_account/*/withdraw", "slow", delay=3)
    soft_limit_after(1.0)
    w = withdrawal_request(account, [1])  # the task runs here (eager Celery), and retries
    w.refresh_from_db()
    assert (w.status, w.attempts, w.withdrawn_points) == (CallStatus.SUCCEEDED, 2, 10)
    assert w.leased_until is None
    deadline = time.monotonic() + 5  # the cut call is logged once the sandbox answers it
    while len(withdraw_calls(sandbox)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {r["json"]["external_order_id"] for r in withdraw_calls(sandbox)} == {w.external_order_id}
    assert Withdrawal.objects.filter(account=account).count() == 1


def withdraw_calls(sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]


@pytest.mark.django_db(transaction=True)
def test_a_real_prefork_worker_cuts_a_slow_call_and_retries_it(sandbox, register, start_celery_worker):
    """Production's pool enforces the limits the worker's own settings give: here a 1 s soft
    limit on every call to Feishu, in the worker's environment alone (this process, which
    sends the task, keeps its 600 s)."""
    assert settings.OUTBOUND_TASK_SOFT_TIME_LIMIT == 600
    account = register(points=10)
    sandbox.add_fault("/open-apis/hire/v1/referral_account/*/withdraw", "slow", delay=4)
    wait = start_celery_worker(
        pool="prefork",
        OUTBOUND_TASK_SOFT_TIME_LIMIT="1",
        OUTBOUND_TASK_TIME_LIMIT="20",
        FEISHU_RETRY_BACKOFF="0.3",
    )
    w = withdrawal_request(account, [1])
    wait(lambda: Withdrawal.objects.get(pk=w.pk).status == CallStatus.SUCCEEDED, timeout=60, what="withdrawn")
    w.refresh_from_db()
    assert (w.attempts, w.withdrawn_points) == (2, 10), wait.log_path.read_text()[-3000:]
    assert (
        "SoftTimeLimitExceeded" in wait.log_path.read_text() or "Soft time limit" in wait.log_path.read_text()
    )
    assert {r["json"]["external_order_id"] for r in withdraw_calls(sandbox)} == {w.external_order_id}
