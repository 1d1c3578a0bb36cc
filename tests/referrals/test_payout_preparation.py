"""A large payout run is prepared by a worker, batch by batch, with its progress on its page;
the approvers are reminded at most once every few minutes and find the runs they may decide
on their dashboard."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from hireops.core.auth import roles
from hireops.ops.status import findings
from referrals.accounts.services import balance_pull
from referrals.models import PayoutLine, PayoutRun, PayoutRunStatus
from referrals.payouts import notices
from referrals.payouts import preparation as payout_preparation
from referrals.payouts import services as payouts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts(register):
    """Five accounts holding 2.00 CNY each, hireops' copy of their balance pulled."""
    made = []
    for i in range(5):
        account = register(
            name=f"员工{i}", email=f"p{i}@example.com", cash=[{"currency_type": "CNY", "amount": "2.00"}]
        )
        balance_pull(account.pk)
        made.append(account)
    return made


@pytest.fixture
def people(staff_user):
    preparer = staff_user(roles.HR, username="preparer")
    approver = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="approver")
    approver.email = "approver@example.com"
    approver.save()
    return preparer, approver


@pytest.fixture
def large(settings, monkeypatch):
    """Runs of more than 2 accounts are large here, and a batch is 2 accounts."""
    settings.PAYOUT_PREPARE_INLINE_MAX = 2
    monkeypatch.setattr(payout_preparation, "BATCH", 2)


@pytest.fixture
def no_worker():
    """Tasks are queued, not run: the test plays the worker's batches itself."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_large_run_is_prepared_in_the_background_with_its_progress_shown(
    sandbox, accounts, people, large, no_worker
):
    preparer, approver = people
    client = signed_in(preparer)
    done = client.post(
        reverse("admin:referrals_payoutrun_add"), {"title": "大批次", "tenant_key": "", "prepare": "1"}
    )
    run = PayoutRun.objects.get()
    assert done["Location"] == reverse("admin:referrals_payoutrun_change", args=[run.pk])
    # The request counted no further than the inline limit: the worker counts.
    assert (run.status, run.expected_lines, run.line_count) == (PayoutRunStatus.PREPARING, None, 0)
    assert not mail.outbox  # nobody is asked to decide a run not prepared yet
    page = client.get(done["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and "counting the accounts" in page

    assert payout_preparation._next_batch(run.pk)  # the worker's first batch
    run.refresh_from_db()
    assert (run.status, run.line_count, run.totals) == (PayoutRunStatus.PREPARING, 2, {"CNY": "4.00"})
    assert run.expected_lines == 5
    assert "2 of about 5 lines written" in client.get(done["Location"]).content.decode()
    with pytest.raises(payouts.PayoutRefused):  # nobody decides it before it is prepared
        payouts.payout_approve(run.pk, approver)
    # Its accounts are promised meanwhile: another run does not take them, nor a withdrawal.
    assert set(payouts.payable_accounts().values_list("pk", flat=True)) == {a.pk for a in accounts[2:]}

    while payout_preparation._next_batch(run.pk):
        pass
    run.refresh_from_db()
    assert (run.status, run.line_count, run.totals) == (
        PayoutRunStatus.AWAITING_APPROVAL,
        5,
        {"CNY": "10.00"},
    )
    assert sorted(run.lines.values_list("account_id", flat=True)) == sorted(a.pk for a in accounts)
    assert run.lines.filter(requested_by=preparer).count() == 5
    assert 'http-equiv="refresh"' not in client.get(done["Location"]).content.decode()


def test_a_preparation_whose_worker_died_is_taken_up_again_and_each_account_gets_one_line(
    sandbox, accounts, people, large
):
    preparer, _approver = people
    with _queued_only():
        run = payouts.payout_prepare(preparer)
    assert payout_preparation._next_batch(run.pk)  # then the worker is killed
    assert payout_preparation.resume_preparations() == []  # its heartbeat is fresh: still alive
    PayoutRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=11))
    stalled = next(f for f in findings() if f.key == "referrals.payout_runs.preparation_stalled")
    assert (stalled.value, stalled.ok) == (1, False)  # beat or the bulk workers are missing
    PayoutRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=3))
    assert payout_preparation.resume_preparations() == [run.pk]  # eager here: runs to its end
    run.refresh_from_db()
    assert (run.status, run.line_count) == (PayoutRunStatus.AWAITING_APPROVAL, 5)
    assert PayoutLine.objects.filter(run=run).count() == 5
    assert [m.to for m in mail.outbox] == [["approver@example.com"]]


def test_two_workers_on_one_run_take_turns_and_write_each_line_once(sandbox, accounts, people, large):
    preparer, _approver = people
    with _queued_only():
        run = payouts.payout_prepare(preparer)
    errors = []

    def work():
        try:
            payout_preparation.payout_prepare_lines(run.pk)
        except Exception as exc:  # an IntegrityError would be a line written twice
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    run.refresh_from_db()
    assert errors == []
    assert (run.status, run.line_count, PayoutLine.objects.filter(run=run).count()) == (
        PayoutRunStatus.AWAITING_APPROVAL,
        5,
        5,
    )


def test_cancelling_a_run_being_prepared_stops_its_worker(sandbox, accounts, people, large):
    preparer, _approver = people
    with _queued_only():
        run = payouts.payout_prepare(preparer)
    payout_preparation._next_batch(run.pk)
    payouts.payout_cancel(run.pk, preparer)
    assert not payout_preparation._next_batch(run.pk)
    run.refresh_from_db()
    assert (run.status, run.line_count) == (PayoutRunStatus.CANCELLED, 2)
    assert not run.lines.filter(status="queued").exists()  # its lines closed: the accounts free again
    assert payouts.payable_accounts().count() == 5


def test_a_large_run_prepared_by_a_real_worker(sandbox, accounts, people, large, start_celery_worker):
    preparer, _approver = people
    celery_worker = start_celery_worker()
    run = payouts.payout_prepare(preparer)  # referrals.payout_prepare_lines, on the bulk queue
    assert run.status == PayoutRunStatus.PREPARING
    celery_worker(
        lambda: PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL, what="prepared"
    )
    assert PayoutRun.objects.get(pk=run.pk).line_count == 5


def test_the_approvers_are_reminded_at_most_once_every_few_minutes(sandbox, accounts, people):
    preparer, _approver = people
    run = payouts.payout_prepare(preparer, pks=[accounts[0].pk])  # the approvers are told
    assert len(mail.outbox) == 1
    client = signed_in(preparer)
    notify = reverse("admin:referrals_payoutrun_notify", args=[run.pk])
    page = client.get(reverse("admin:referrals_payoutrun_change", args=[run.pk])).content.decode()
    assert 'id="notify-again"' in page  # when they were told, and when they can be again
    answer = client.post(notify, follow=True)
    assert len(mail.outbox) == 1 and "can be told again from" in answer.content.decode()
    # A press at once from two tabs, after the wait: one reminder.
    PayoutRun.objects.filter(pk=run.pk).update(notified_at=timezone.now() - timedelta(minutes=6))
    assert notices.payout_notify_again(run.pk) == []
    assert notices.payout_notify_again(run.pk) is None
    assert len(mail.outbox) == 2


def test_runs_waiting_for_a_decision_are_on_the_dashboard_of_those_who_may_decide_them(
    sandbox, accounts, people, staff_user
):
    preparer, approver = people
    both = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="both")
    payouts.payout_prepare(both, pks=[accounts[0].pk])
    payouts.payout_prepare(preparer, pks=[accounts[1].pk])
    waiting = "Payout runs waiting for your decision"

    def board(user) -> str:
        return signed_in(user).get(reverse("admin:index")).content.decode()

    assert waiting not in board(preparer)  # HR without the approve permission: not theirs
    page = board(approver)
    assert waiting in page and _count_after(page, waiting) == "2"
    assert _count_after(board(both), waiting) == "1"  # not the run they prepared


def _count_after(page: str, label: str) -> str:
    """The count the dashboard shows beside ``label``."""
    import re

    found = re.search(re.escape(label) + r".*?<td[^>]*>\s*(?:<a[^>]*>)?\s*([\d,]+\+?)", page, re.S)
    assert found, label
    return found.group(1)


class _queued_only:
    """Tasks queued in the block are not run (the worker is not there yet)."""

    def __enter__(self):
        celery_app.conf.task_always_eager = False

    def __exit__(self, *exc):
        celery_app.conf.task_always_eager = True
