"""Payout runs against the sandbox over HTTP: prepared by one, approved by another, paid once."""

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from hireops import outbound
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from hireops.core.schedules import registry as schedules
from hireops.core.schedules.registry import sync_schedules
from referrals.accounts.services import balance_pull
from referrals.admin.payouts import payroll_rows
from referrals.models import PayoutLine, PayoutRun, PayoutRunStatus, ReferralAccount, Withdrawal
from referrals.payouts import dispatch as payout_dispatch
from referrals.payouts import services as payouts
from referrals.withdrawals.services import WithdrawalRefused, withdrawal_request
from tests.second_factor import give_totp
from tests.test_history import entries, read
from tests.triggers import refusing_rows

from .conftest import reload

pytestmark = pytest.mark.django_db(transaction=True)
ASSETS = "/open-apis/hire/v1/referral_account/get_account_assets"


def withdraw_calls(sandbox) -> list[dict]:
    return [e for e in sandbox.requests() if e["path"].endswith("/withdraw")]


def cny(amount):
    return [{"currency_type": "CNY", "amount": str(amount)}]


@pytest.fixture
def people(staff_user):
    """A preparer (HR), an approver (HR + payout approvals), a withdrawer without approval, each
    with the second factor their roles need (until then a money permission does nothing)."""
    made = {
        "preparer": staff_user(roles.HR, username="preparer"),
        "approver": staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="approver"),
        "withdrawer": staff_user(roles.HR, roles.HR_WITHDRAWALS, username="withdrawer"),
    }
    for name, email in (("preparer", "preparer@example.com"), ("approver", "ok@example.com")):
        made[name].email = email
        made[name].save()
    for user in made.values():
        give_totp(user)
    return made


@pytest.fixture
def with_cash(register):
    """Registered accounts holding cash, their balance as hireops last pulled it."""

    def make(n, amount="10.00", points=0):
        accounts = []
        for i in range(n):
            account = register(name=f"员工{i}", email=f"e{i}@example.com", points=points, cash=cny(amount))
            balance_pull(account.pk)
            accounts.append(reload(account))
        return accounts

    return make


def prepared(people, **selection):
    return payouts.payout_prepare(people["preparer"], title="十一月", **selection)


def test_a_prepared_run_pays_nothing_until_approved_then_each_line_once(sandbox, people, with_cash, register):
    accounts = with_cash(3, amount="12.50")
    register(name="没钱", email="none@example.com")  # no cash: no line
    run = prepared(people)
    assert (run.status, run.line_count, run.totals) == (
        PayoutRunStatus.AWAITING_APPROVAL,
        3,
        {"CNY": "37.50"},
    )
    assert not withdraw_calls(sandbox)
    assert {line.account_id for line in run.lines.all()} == {a.pk for a in accounts}
    # The approvers were told, the preparer not.
    assert [m.to for m in mail.outbox] == [["ok@example.com"]]
    assert "37.50 CNY" in mail.outbox[0].body
    assert PayoutRun.objects.get(pk=run.pk).notified_at is not None

    with pytest.raises(PermissionDenied):
        payouts.payout_approve(run.pk, people["withdrawer"])  # withdrawing is not approving
    people["preparer"].groups.add(*people["approver"].groups.all())
    with pytest.raises(payouts.PayoutRefused, match="caused this run"):
        payouts.payout_approve(run.pk, people["preparer"])
    assert not withdraw_calls(sandbox)

    payouts.payout_approve(run.pk, people["approver"])  # eager: dispatched and paid at once
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    lines = list(run.lines.order_by("pk"))
    assert [line.status for line in lines] == [CallStatus.SUCCEEDED] * 3
    assert all(line.withdrawn_cash == {"CNY": "12.50"} and line.trans_time for line in lines)
    assert all(line.employee_id for line in lines)  # Feishu's user_id of the referrer
    withdrawn = withdraw_calls(sandbox)
    assert sorted(r["json"]["external_order_id"] for r in withdrawn) == sorted(
        x.external_order_id for x in lines
    )
    assert all(r["json"]["withdraw_bonus_type"] == [2] for r in withdrawn)
    # Each paid line is a withdrawal of its account, and the cash is gone locally too.
    for line in lines:
        w = Withdrawal.objects.get(external_order_id=line.external_order_id)
        assert (w.account_id, w.status, w.withdrawn_cash, w.requested_by) == (
            line.account_id,
            CallStatus.SUCCEEDED,
            {"CNY": "12.50"},
            people["approver"],
        )
        assert not reload(line.account).cash.filter(amount__gt=0).exists()
    assert payouts.paid_totals(run) == {"CNY": "37.50"}


def test_a_rejected_run_pays_nothing_and_a_reason_is_required(sandbox, people, with_cash):
    with_cash(2)
    run = prepared(people)
    with pytest.raises(payouts.PayoutRefused, match="why"):
        payouts.payout_reject(run.pk, people["approver"], "  ")
    payouts.payout_reject(run.pk, people["approver"], "金额不对")
    run.refresh_from_db()
    assert (run.status, run.reason) == (PayoutRunStatus.REJECTED, "金额不对")
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.FAILED}
    payout_dispatch.payout_dispatch()
    with pytest.raises(payouts.PayoutRefused, match="only a run waiting"):
        payouts.payout_approve(run.pk, people["approver"])
    assert not withdraw_calls(sandbox)
    # Rejected, its accounts are free for the next run.
    assert prepared(people).line_count == 2


def test_an_account_is_in_one_open_run_and_cannot_be_withdrawn_meanwhile(sandbox, people, with_cash):
    (account,) = with_cash(1)
    prepared(people)
    with pytest.raises(payouts.PayoutRefused, match="No account to pay"):
        prepared(people)
    with pytest.raises(WithdrawalRefused, match="not yet paid"):
        withdrawal_request(reload(account), [2], people["withdrawer"])


def paid_and_held(sandbox, people, with_cash) -> tuple[PayoutRun, PayoutLine, PayoutLine]:
    """A run of two lines approved, then one employee's balance grows before the payment: that
    line is held, the other paid."""
    a, b = with_cash(2, amount="5.00")
    run = prepared(people)
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False  # approved, but nothing dispatched yet
    try:
        payouts.payout_approve(run.pk, people["approver"])
    finally:
        celery_app.conf.task_always_eager = True
    sandbox.grant_bonus(b.account_id, cash=cny("3.00"))  # Feishu now holds 8.00 for b
    for pk in payout_dispatch.claim_due(100):
        outbound.run(payouts.PAY_LINE, pk)
    return run, run.lines.get(account=a), run.lines.get(account=b)


def test_a_balance_that_changed_after_approval_is_held_not_paid(sandbox, people, with_cash, settings):
    run, paid, held = paid_and_held(sandbox, people, with_cash)
    assert paid.status == CallStatus.SUCCEEDED
    assert (held.status, held.held, held.feishu_cash) == (CallStatus.FAILED, True, {"CNY": "8.00"})
    assert "8.00 CNY" in held.error and "5.00 CNY" in held.error
    withdrawn = [r["json"]["external_order_id"] for r in withdraw_calls(sandbox)]
    assert withdrawn == [paid.external_order_id]  # b was never withdrawn
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    assert list(payouts.lines_needing_a_person(run)) == [held]

    # An approver releases it: paid at what Feishu held, with the same order id.
    with pytest.raises(payouts.PayoutRefused, match="caused this run"):
        people["preparer"].groups.add(*people["approver"].groups.all())
        payouts.payout_release([held.pk], people["preparer"])
    assert payouts.payout_release([held.pk], people["approver"]) == 1
    held.refresh_from_db()
    assert (held.status, held.withdrawn_cash) == (CallStatus.SUCCEEDED, {"CNY": "8.00"})
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    assert payouts.paid_totals(run) == {"CNY": "13.00"}


def test_a_release_is_recorded_in_the_readers_language_not_the_approvers(sandbox, people, with_cash, client):
    """An approver who reads English releases a held line: a colleague who reads Chinese reads
    the change history in Chinese (the entry keeps the msgid, not the writer's words)."""
    _run, paid, held = paid_and_held(sandbox, people, with_cash)
    client.force_login(people["approver"])
    response = client.post(
        "/admin/referrals/payoutline/",
        {"action": "release", "_selected_action": [held.pk, paid.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == CallStatus.SUCCEEDED  # paid at Feishu's balance, by the eager worker
    assert entries(paid) == []  # not released: nothing to record
    (entry,) = entries(held)
    assert entry.user == people["approver"]
    assert read(entry) == (
        "Released the held line: paid at Feishu's balance",
        "放行了暂停的行：按飞书余额发放",
    )
    history = client.get(f"/admin/referrals/payoutline/{held.pk}/history/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "放行了暂停的行：按飞书余额发放" in history.content.decode()


def test_a_line_shows_the_accounts_employee_id_until_feishu_names_the_one_paid(
    sandbox, people, with_cash, client
):
    (account,) = with_cash(1)
    # Known from the directory (a joiner's event) or an earlier payment.
    ReferralAccount.objects.filter(pk=account.pk).update(employee_id="u81cb3999")
    line = prepared(people).lines.get()
    assert line.employee_id == ""  # Feishu's comes with the payment
    client.force_login(people["approver"])
    for url in ("/admin/referrals/payoutline/", f"/admin/referrals/payoutline/{line.pk}/change/"):
        assert "u81cb3999" in client.get(url).content.decode(), url


def test_a_run_killed_half_way_resumes_and_pays_each_line_once(sandbox, people, with_cash, settings):
    """The worker dies after Feishu withdrew but before the answer was recorded (the answer
    comes late: the client gives up on it), and again with lines still unclaimed: the
    dispatcher picks them up after the claims and leases run out, and the retried withdrawal
    carries the same order id, so Feishu pays nothing twice."""
    settings.FEISHU_TIMEOUT = 1.0
    accounts = with_cash(4, amount="2.00")
    run = prepared(people)
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    try:
        payouts.payout_approve(run.pk, people["approver"])
    finally:
        celery_app.conf.task_always_eager = True
    claimed = payout_dispatch.claim_due(100)
    assert len(claimed) == 4
    sandbox.add_fault("*/withdraw", "late", count=1, delay=2.0)  # withdrawn, answer lost
    with pytest.raises(Exception):  # noqa: B017 (TryLater: retried)
        outbound.run(payouts.PAY_LINE, claimed[0])
    first = PayoutLine.objects.get(pk=claimed[0])
    assert (first.status, first.withdraw_sent, first.maybe_applied) == (CallStatus.QUEUED, True, True)
    # "Killed": the other three claimed lines were never sent. Time passes.
    assert payout_dispatch.claim_due(100) == []  # still claimed
    past = timezone.now() - timedelta(seconds=1)
    PayoutLine.objects.filter(run=run).update(dispatched_until=past, leased_until=past)
    payout_dispatch.payout_dispatch()  # eager: every line sent again or for the first time
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}
    # Feishu's own books: each account withdrawn exactly once.
    state = sandbox.state()
    by_id = {a["account_id"]: a for a in state["accounts"]}
    for account in accounts:
        assert len(by_id[account.account_id]["withdrawals"]) == 1

    def orders():
        return [r["json"]["external_order_id"] for r in withdraw_calls(sandbox)]

    deadline = time.monotonic() + 10  # the late call is logged once the sandbox answers it (2 s)
    while orders().count(first.external_order_id) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert orders().count(first.external_order_id) == 2 and len(set(orders())) == 4
    # The retried line did not read the balance again (it was zero because of its own withdrawal).
    assert first.withdrawn_cash is None and PayoutLine.objects.get(pk=first.pk).withdrawn_cash == {
        "CNY": "2.00"
    }


@pytest.fixture
def tasks_run():
    """The tasks Celery runs (eager here), by name with their arguments, as its signal tells."""
    from celery.signals import task_prerun

    ran = []

    def note(sender, args, **kwargs):
        ran.append((sender.name, list(args)))

    task_prerun.connect(note, weak=False)
    yield ran
    task_prerun.disconnect(note)


def test_the_dispatcher_sends_lines_ten_to_a_task_and_each_is_paid_once(
    sandbox, people, with_cash, tasks_run
):
    accounts = with_cash(3, amount="1.00")
    run = prepared(people)
    payouts.payout_approve(run.pk, people["approver"])  # the first tick, then its batch
    batches = [args[0] for name, args in tasks_run if name == "referrals.pay_line.batch"]
    assert batches == [list(run.lines.order_by("pk").values_list("pk", flat=True))]
    assert not [name for name, _ in tasks_run if name == "referrals.pay_line"]  # no line on its own
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    assert set(run.lines.values_list("status", "attempts")) == {(CallStatus.SUCCEEDED, 1)}
    books = {a["account_id"]: a["withdrawals"] for a in sandbox.state()["accounts"]}
    assert [len(books[a.account_id]) for a in accounts] == [1] * 3
    assert Withdrawal.objects.filter(status=CallStatus.SUCCEEDED).count() == 3
    orders = set(run.lines.values_list("external_order_id", flat=True))

    # Ten to a task, in the order given; one left over goes alone (rows that are gone: no call).
    tasks_run.clear()
    payouts.PAY_LINE.send_many(list(range(10**6, 10**6 + 21)))
    assert [(name, len(args[0]) if "batch" in name else args) for name, args in tasks_run] == [
        ("referrals.pay_line.batch", 10),
        ("referrals.pay_line.batch", 10),
        ("referrals.pay_line", [10**6 + 20]),
    ]
    assert [pk for _, args in tasks_run[:2] for pk in args[0]] == list(range(10**6, 10**6 + 20))
    assert len([r for r in withdraw_calls(sandbox) if r["json"]["external_order_id"] in orders]) == 3


def test_a_batchs_quick_answers_are_recorded_together_and_slow_ones_one_by_one(
    sandbox, people, with_cash, settings
):
    """While the calls come back within the window their answers are recorded in one
    transaction, a statement for all their withdrawals; a call slower than the window is
    recorded as it comes back, so no answer waits for the others."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def withdrawals_written(queries) -> int:
        return sum(
            q["sql"].startswith('INSERT INTO "referrals_withdrawal"') for q in queries.captured_queries
        )

    accounts = with_cash(6, amount="1.00")
    quick, slow = accounts[:3], accounts[3:]
    settings.OUTBOUND_BATCH_RECORD_WITHIN = 60  # every call here is quicker than that
    run = prepared(people, pks=[a.pk for a in quick])
    with CaptureQueriesContext(connection) as queries:
        payouts.payout_approve(run.pk, people["approver"])
    assert withdrawals_written(queries) == 1
    assert set(run.lines.values_list("status", "attempts")) == {(CallStatus.SUCCEEDED, 1)}

    settings.OUTBOUND_BATCH_RECORD_WITHIN = 0.1  # every withdrawal takes longer than that
    run = prepared(people, pks=[a.pk for a in slow])
    sandbox.add_fault("/open-apis/hire/v1/referral_account/*/withdraw", "slow", count=3, delay=0.3)
    with CaptureQueriesContext(connection) as queries:
        payouts.payout_approve(run.pk, people["approver"])
    assert withdrawals_written(queries) == 3
    assert set(run.lines.values_list("status", "attempts")) == {(CallStatus.SUCCEEDED, 1)}
    books = {a["account_id"]: a["withdrawals"] for a in sandbox.state()["accounts"]}
    assert [len(books[a.account_id]) for a in accounts] == [1] * 6
    for account in accounts:
        assert reload(account).cash.count() == 0 and Withdrawal.objects.filter(account=account).count() == 1


def withdrawal_refused(order_id: str):
    """The database refuses to record the withdrawal of this order id (a trigger), as it could
    refuse any row of a batch's effect."""
    return refusing_rows(
        "refuse_order", "BEFORE INSERT ON referrals_withdrawal", when=f"NEW.external_order_id = '{order_id}'"
    )


def test_a_line_whose_record_fails_holds_back_none_of_its_batch(sandbox, people, with_cash, settings):
    """Three answers recorded together, and the database refuses the middle one's withdrawal:
    the other two are recorded on their own; the refused one keeps its lease, and once the lease
    is over it is sent again with its order id, which Feishu does not pay twice."""
    settings.OUTBOUND_BATCH_RECORD_WITHIN = 60  # the three answers are recorded together
    accounts = with_cash(3, amount="1.00")
    run = prepared(people)
    first, middle, last = run.lines.order_by("pk")
    with withdrawal_refused(middle.external_order_id):
        payouts.payout_approve(run.pk, people["approver"])  # the batch task fails (eager: kept)
    statuses = dict(run.lines.values_list("pk", "status"))
    assert statuses == {
        first.pk: CallStatus.SUCCEEDED,
        middle.pk: CallStatus.QUEUED,
        last.pk: CallStatus.SUCCEEDED,
    }
    middle.refresh_from_db()
    assert middle.withdraw_sent and middle.leased_until > timezone.now()  # Feishu paid it: kept leased
    assert set(Withdrawal.objects.values_list("external_order_id", flat=True)) == {
        first.external_order_id,
        last.external_order_id,
    }

    past = timezone.now() - timedelta(seconds=1)  # the lease and the claim have run out
    PayoutLine.objects.filter(pk=middle.pk).update(leased_until=past, dispatched_until=past)
    payout_dispatch.payout_dispatch()
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}
    books = {a["account_id"]: a["withdrawals"] for a in sandbox.state()["accounts"]}
    assert [len(books[a.account_id]) for a in accounts] == [1] * 3
    ours = [r for r in withdraw_calls(sandbox) if any(f"/{a.account_id}/" in r["path"] for a in accounts)]
    orders = [r["json"]["external_order_id"] for r in ours]  # (a late call of an earlier test aside)
    assert orders.count(middle.external_order_id) == 2 and len(orders) == 4
    assert Withdrawal.objects.filter(status=CallStatus.SUCCEEDED).count() == 3


def test_a_line_failing_in_a_batch_is_retried_alone_within_the_same_budget(
    sandbox, people, with_cash, tasks_run
):
    """Feishu fails one account's withdrawal every time: the batch pays the others, and that
    line is tried ``ATTEMPTS`` times in all (its own task takes over as its first retry), then
    kept open for the dispatcher with the same order id."""
    from hireops.outbound.retry import ATTEMPTS

    a, b, c = with_cash(3, amount="1.00")
    run = prepared(people)
    sandbox.add_fault(f"/open-apis/hire/v1/referral_account/{b.account_id}/withdraw", "5xx", count=100)
    payouts.payout_approve(run.pk, people["approver"])
    assert [len(args[0]) for name, args in tasks_run if name == "referrals.pay_line.batch"] == [3]
    failing = run.lines.get(account=b)
    assert [args for name, args in tasks_run if name == "referrals.pay_line"] == [[failing.pk]] * (
        ATTEMPTS - 1
    )
    sent = [r for r in withdraw_calls(sandbox) if f"/{b.account_id}/" in r["path"]]
    assert len(sent) == ATTEMPTS
    assert {r["json"]["external_order_id"] for r in sent} == {failing.external_order_id}
    failing.refresh_from_db()
    assert (failing.status, failing.attempts, failing.maybe_applied) == (CallStatus.QUEUED, ATTEMPTS, True)
    assert failing.dispatched_until is None  # the dispatcher's next tick sends it again
    assert "Outcome unknown" in str(failing.error)
    assert {line.account_id: line.status for line in run.lines.exclude(pk=failing.pk)} == {
        a.pk: CallStatus.SUCCEEDED,
        c.pk: CallStatus.SUCCEEDED,
    }


def test_a_batch_cut_by_the_soft_limit_retries_the_cut_line_and_sends_the_rest_again(
    sandbox, people, with_cash, soft_limit_after, tasks_run, monkeypatch
):
    """The soft time limit comes while the batch's first withdrawal waits for Feishu: that line
    is retried with its order id, the lines not called yet are given back (no attempt counted)
    and sent again; each account is withdrawn once."""
    from config.celery import app as celery_app

    accounts = with_cash(3, amount="1.00")
    run = prepared(people)
    celery_app.conf.task_always_eager = False
    try:
        payouts.payout_approve(run.pk, people["approver"])  # its first tick waits in the broker
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.control.purge()  # no later test's worker runs that tick
    pks = payout_dispatch.claim_due(100)
    first = run.lines.get(pk=pks[0])
    # Feishu takes 5 s to answer the first withdrawal; the limit comes half a second after that
    # withdrawal leaves (armed by the client's report just before it sends it, after any wait
    # for the tenant's turn), so in the middle of that call whatever the machine's load.
    from hireops.feishu import hooks

    sandbox.add_fault("/open-apis/hire/v1/referral_account/*/withdraw", "slow", count=1, delay=5)
    armed = []

    def arm_at_the_first_withdrawal(endpoint, wait):
        if endpoint == "hire.referral_account.withdraw" and not armed:
            armed.append(endpoint)
            soft_limit_after(wait + 0.5)

    monkeypatch.setitem(
        hooks._listeners, "limiter_waited", [*hooks._listeners["limiter_waited"], arm_at_the_first_withdrawal]
    )
    outbound.run_batch(payouts.PAY_LINE, pks)
    assert armed
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED
    assert dict(run.lines.values_list("pk", "attempts")) == {pk: 2 if pk == first.pk else 1 for pk in pks}
    batches = [args[0] for name, args in tasks_run if name == "referrals.pay_line.batch"]
    assert batches == [pks[1:]]  # the two not called, sent again together
    assert [args for name, args in tasks_run if name == "referrals.pay_line"] == [[first.pk]]
    ours = {f"/{a.account_id}/" for a in accounts}  # a late call of an earlier test may be logged too

    def orders():
        calls = [r for r in withdraw_calls(sandbox) if any(o in r["path"] for o in ours)]
        return [r["json"]["external_order_id"] for r in calls]

    deadline = time.monotonic() + 10  # the cut call is logged once the sandbox answers it (5 s)
    while len(orders()) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(orders()) == sorted(
        [first.external_order_id, *run.lines.values_list("external_order_id", flat=True)]
    )
    books = {a["account_id"]: a["withdrawals"] for a in sandbox.state()["accounts"]}
    assert [len(books[a.account_id]) for a in accounts] == [1] * 3


def test_the_dispatcher_paces_each_tenant_at_its_quota(sandbox, people, with_cash, settings):
    settings.FEISHU_QUOTA_MINUTE = 60.0  # Feishu's minute, not the suite's shortened one
    assert payout_dispatch.per_tick() == 97  # 100 a minute at the limiter's 97 %
    with_cash(3)
    prepared(people)
    run = PayoutRun.objects.get()
    run.status = PayoutRunStatus.PAYING
    run.save()
    assert len(payout_dispatch.claim_due(2, most=1)) == 1  # at most this many out in all
    assert payout_dispatch.claim_due(2, most=1) == []  # one is out already
    assert len(payout_dispatch.claim_due(2)) == 1  # one tenant here: 2 out at a time
    assert payout_dispatch.claim_due(2) == []  # the claimed ones are not claimed again
    assert len(payout_dispatch.claim_due(5)) == 1  # the third line
    assert payouts.run_progress(run).seconds_left == pytest.approx(3 * 60 / 100 / 0.97)


def test_the_payroll_file_matches_the_withdrawals(sandbox, people, with_cash, client):
    with_cash(2, amount="7.25")
    run = prepared(people)
    payouts.payout_approve(run.pk, people["approver"])
    client.force_login(people["preparer"])
    response = client.get(reverse("admin:referrals_payoutrun_payroll", args=[run.pk, "csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header == PAYROLL_KEYS and len(body) == 2
    for row in body:
        w = Withdrawal.objects.get(external_order_id=row[6])
        assert Decimal(row[3]) == Decimal(w.withdrawn_cash["CNY"])
        assert row[4] == "CNY" and row[0] == PayoutLine.objects.get(external_order_id=row[6]).employee_id
        assert row[8:] == ["preparer", "approver"]
    xlsx = client.get(reverse("admin:referrals_payoutrun_payroll", args=[run.pk, "xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(list(payroll_rows(run))) == 2


# The payroll CSV's columns, a contract with payroll systems (docs/payroll.md).
PAYROLL_KEYS = [
    "employee_id",
    "employee_name",
    "feishu_account_id",
    "amount",
    "currency",
    "outcome",
    "external_order_id",
    "transaction_time",
    "prepared_by",
    "approved_by",
]
FORMULA_NAME = '=HYPERLINK("http://x.example.com","点我")'


def payroll(client, run, kind: str, language: str) -> bytes:
    url = reverse("admin:referrals_payoutrun_payroll", args=[run.pk, kind])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_payroll_csv_reads_the_same_whoever_downloads_it_and_the_excel_file_speaks_theirs(
    sandbox, people, with_cash, client
):
    """A payroll system reads the CSV's columns by name: a colleague with another language must
    not break the next file. People read the Excel file, in their language."""
    accounts = with_cash(2, amount="7.25")
    ReferralAccount.objects.filter(pk=accounts[0].pk).update(name=FORMULA_NAME)
    run = prepared(people)
    client.force_login(people["preparer"])

    def csv_rows(outcome: str) -> list[list[str]]:
        chinese, english = (payroll(client, run, "csv", language) for language in ("zh-CN", "en"))
        assert chinese == english  # byte for byte
        header, *body = csv.reader(io.StringIO(chinese.decode("utf-8-sig")))
        assert header == PAYROLL_KEYS and len(body) == 2
        assert [row[5] for row in body] == [outcome] * 2
        assert {row[1] for row in body} == {"员工1", "'" + FORMULA_NAME}  # text, never a formula
        return body

    csv_rows("waiting_for_approval")
    payouts.payout_approve(run.pk, people["approver"])
    for row in csv_rows("paid"):
        line = PayoutLine.objects.get(external_order_id=row[6])
        paid_at = timezone.localtime(datetime.fromtimestamp(line.trans_time / 1000, UTC))
        assert row[7] == paid_at.strftime("%Y-%m-%dT%H:%M:%S+08:00")  # ISO 8601, TIME_ZONE's offset
        assert row[8:] == ["preparer", "approver"]

    for language, words in (
        ("zh-CN", ["员工 ID", "员工姓名", "结果", "已发放"]),
        ("en", ["employee id", "employee name", "outcome", "Paid"]),
    ):
        sheet = openpyxl.load_workbook(io.BytesIO(payroll(client, run, "xlsx", language))).active
        header, *body = sheet.iter_rows(values_only=True)
        assert [header[0], header[1], header[5], body[0][5]] == words
        assert isinstance(body[0][7], datetime) and body[0][3] == Decimal("7.25")  # Excel sums, sorts
        name = next(cell for cell in sheet["B"][1:] if cell.value.startswith("=HYPERLINK"))
        assert name.data_type == "s" and name.value == FORMULA_NAME  # text, never a formula


def test_a_rejected_runs_payroll_names_no_approver_and_pays_nothing(sandbox, people, with_cash, client):
    with_cash(1)
    run = prepared(people)
    payouts.payout_reject(run.pk, people["approver"], "not this month")
    client.force_login(people["preparer"])
    _, row = csv.reader(io.StringIO(payroll(client, run, "csv", "en").decode("utf-8-sig")))
    assert (row[5], row[7], row[8], row[9]) == ("not_paid", "", "preparer", "")


def test_the_decision_page_refuses_the_preparer_and_needs_the_approve_permission(
    sandbox, people, with_cash, client
):
    with_cash(1)
    run = prepared(people)
    decide = reverse("admin:referrals_payoutrun_decide", args=[run.pk])
    client.force_login(people["withdrawer"])
    assert client.post(decide, {"approve": "1"}).status_code == 403
    people["preparer"].groups.add(*people["approver"].groups.all())
    client.force_login(people["preparer"])
    page = client.get(reverse("admin:referrals_payoutrun_change", args=[run.pk]))
    assert decide not in page.content.decode()
    client.post(decide, {"approve": "1"})
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL
    client.force_login(people["approver"])
    assert client.post(decide, {"approve": "1"})["Location"] == decide  # not from the page: shown first
    response = client.post(decide, {"approve": "1", "seen": client.get(decide).context["seen"]})
    assert response.status_code == 302
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.FINISHED


def test_what_is_approved_is_what_the_accounts_hold_when_the_approver_looks(
    sandbox, people, with_cash, client
):
    """A bonus arrives between preparation and approval: the decision page shows the line at
    the new balance; an approval of what was shown before the next change is refused, and the
    run pays what was approved."""
    a, _other = with_cash(2, amount="5.00")
    run = prepared(people)
    decide = reverse("admin:referrals_payoutrun_decide", args=[run.pk])
    client.force_login(people["approver"])
    before = client.get(decide).context["seen"]
    sandbox.grant_bonus(a.account_id, cash=cny("2.50"))
    balance_pull(a.pk)  # hireops learns of it (an event or a pull)
    page = client.get(decide)
    assert "7.50 CNY" in page.content.decode() and page.context["seen"] != before
    assert run.lines.get(account=a).cash == {"CNY": "7.50"}
    assert PayoutRun.objects.get(pk=run.pk).totals == {"CNY": "12.50"}
    stale = client.post(decide, {"approve": "1", "seen": before})
    assert stale["Location"] == decide and PayoutRun.objects.get(pk=run.pk).status == "awaiting"
    client.post(decide, {"approve": "1", "seen": page.context["seen"]})
    assert payouts.paid_totals(run) == {"CNY": "12.50"}
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}


def test_payout_tasks_in_a_real_worker(sandbox, people, with_cash, start_celery_worker):
    """The schedule's preparation, the notice, the dispatcher and the line payments, each run
    by a real ``celery worker`` process."""
    from referrals import tasks

    with_cash(2, amount="3.00")  # registered in-process first
    celery_worker = start_celery_worker()
    # "Run now" as the schedules' page sends it: the worker learns who asked from the headers.
    sync_schedules()
    row = PeriodicTask.objects.get(task="referrals.payout_prepare_scheduled")
    headers = schedules.note_run_now(row, people["preparer"])
    tasks.payout_prepare_scheduled.apply_async(headers=headers)  # prepared, then payout_notify
    celery_worker(lambda: PayoutRun.objects.filter(notified_at__isnull=False).exists(), what="prepared, told")
    run = PayoutRun.objects.get()
    assert (run.scheduled, run.prepared_by, run.run_now_by, run.line_count) == (
        True,
        None,
        people["preparer"],
        2,
    )
    assert payouts.causers(run) == {people["preparer"].pk}
    payouts.payout_approve(run.pk, people["approver"])  # payout_dispatch, then pay_line
    celery_worker(
        lambda: PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.FINISHED, what="paid by the worker"
    )
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}
    assert len(withdraw_calls(sandbox)) == 2


def test_the_dispatcher_tops_the_workers_up_without_waiting_for_the_next_minute(
    sandbox, people, with_cash, start_celery_worker
):
    """The workers may hold one line at a time: the approval's tick hands out one, and the
    dispatcher's follow-ups the others as the worker pays them. No beat runs here, so without
    the follow-ups the run would wait for ticks that never come. A follow-up comes 2.5 s after
    the look before it (5 s in a deployment): time enough for the worker to pay its line at the
    quota's pace, which a follow-up that found the line still in hand would end the chain on."""
    with_cash(3, amount="2.00")
    run = prepared(people)
    celery_worker = start_celery_worker(PAYOUT_LINES_PER_TICK="1", HIREOPS_TEST_PAYOUT_FOLLOW_UP="2.5")
    payouts.payout_approve(run.pk, people["approver"])
    celery_worker(
        lambda: PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.FINISHED,
        timeout=60,
        what="every line paid, one at a time",
    )
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}
    orders = sorted(r["json"]["external_order_id"] for r in withdraw_calls(sandbox))
    assert orders == sorted(run.lines.values_list("external_order_id", flat=True))  # each once


def test_prepared_from_the_account_list_or_the_run_form_after_a_preview(sandbox, people, with_cash, client):
    a, b, c = with_cash(3, amount="4.00")
    client.force_login(people["preparer"])
    accounts = reverse("admin:referrals_referralaccount_changelist")
    chosen = {"action": "prepare_payout_run", "_selected_action": [a.pk, b.pk]}
    page = client.post(accounts, chosen)
    assert page.status_code == 200 and "8.00 CNY" in page.content.decode()  # the preview
    assert not PayoutRun.objects.exists()
    done = client.post(accounts, {**chosen, "prepare": "1", "title": "两人"})
    run = PayoutRun.objects.get()
    assert done["Location"] == reverse("admin:referrals_payoutrun_change", args=[run.pk])
    assert (run.title, run.line_count, run.totals) == ("两人", 2, {"CNY": "8.00"})
    assert run.prepared_by == people["preparer"]

    # The run form: every account with cash, narrowed by a minimum amount; c is the one left.
    add = reverse("admin:referrals_payoutrun_add")
    refused = client.post(add, {"currency": "CNY", "preview": "1"})
    assert "needs its currency" in refused.content.decode() or "minimum amount" in refused.content.decode()
    preview = client.post(add, {"currency": "cny", "min_amount": "4.00", "preview": "1"})
    assert 'id="payout-preview"' in preview.content.decode() and c.name in preview.content.decode()
    assert PayoutRun.objects.count() == 1
    client.post(add, {"currency": "CNY", "min_amount": "4.00", "prepare": "1"})
    second = PayoutRun.objects.latest("pk")
    assert [line.account_id for line in second.lines.all()] == [c.pk]
    assert second.selection == {"tenant_key": None, "currency": "CNY", "min_amount": "4.00"}
    # Its page shows each line and the totals before anything moves.
    page = client.get(reverse("admin:referrals_payoutrun_change", args=[second.pk])).content.decode()
    assert "4.00 CNY" in page and c.name in page and not withdraw_calls(sandbox)


def test_what_needs_a_person_is_on_the_status_page(sandbox, people, with_cash):
    from hireops.ops.status import findings

    def finding(key):
        return next(f for f in findings() if f.key == key)

    with_cash(2)
    run = prepared(people)
    assert finding("referrals.payout_runs.untold").ok  # the approver has an address
    PayoutRun.objects.filter(pk=run.pk).update(prepared_at=timezone.now() - timedelta(days=8))
    assert finding("referrals.payout_runs.waiting").value == 1
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False  # approved, never dispatched: no worker runs
    try:
        payouts.payout_approve(run.pk, people["approver"])
    finally:
        celery_app.conf.task_always_eager = True
    assert finding("referrals.payout_runs.stalled").ok  # just approved
    PayoutRun.objects.filter(pk=run.pk).update(decided_at=timezone.now() - timedelta(minutes=16))
    stalled = finding("referrals.payout_runs.stalled")
    assert (stalled.value, stalled.ok) == (1, False)
    payout_dispatch.payout_dispatch()
    assert finding("referrals.payout_runs.stalled").ok and finding("referrals.pay_line.failed").ok


def test_payout_lines_are_stuck_or_failed_only_when_a_person_must_look(sandbox, people, with_cash):
    """A line waits for a person until its run is approved, then for the dispatcher's pace; it
    is stuck once sent and still unanswered 30 minutes after the approval (a line given up on
    stays queued: it is one). A line closed unpaid by a rejection, a cancellation or a balance
    emptied before the approval is nobody's failure; a held one needs a person."""
    from config.celery import app as celery_app
    from hireops.ops.status import findings
    from hireops.outbound.retry import TryLater
    from referrals.models import AccountCash

    def stuck_and_failed():
        found = {f.key: f.value for f in findings()}
        return found["referrals.pay_line.stuck"], found["referrals.pay_line.failed"]

    hours_ago = timezone.now() - timedelta(hours=2)
    a, b, c = with_cash(3, amount="5.00")
    waiting = prepared(people)
    waiting.lines.update(requested_at=hours_ago)
    assert stuck_and_failed() == (0, 0)  # waiting for an approver, for hours
    payouts.payout_reject(waiting.pk, people["approver"], "金额不对")
    payouts.payout_cancel(prepared(people).pk, people["preparer"])
    assert PayoutLine.objects.filter(status=CallStatus.FAILED).count() == 6
    assert stuck_and_failed() == (0, 0)

    run = prepared(people)
    run.lines.update(requested_at=hours_ago)
    AccountCash.objects.filter(account=c).delete()  # its cash withdrawn before the approval
    celery_app.conf.task_always_eager = False  # approved; the dispatcher's tick not yet run
    try:
        payouts.payout_approve(run.pk, people["approver"])
    finally:
        celery_app.conf.task_always_eager = True
    assert run.lines.get(account=c).status == CallStatus.FAILED  # nothing to pay
    PayoutRun.objects.filter(pk=run.pk).update(decided_at=timezone.now() - timedelta(minutes=31))
    assert stuck_and_failed() == (0, 0)  # not sent yet: the pace (a stall is the run's finding)

    sandbox.grant_bonus(b.account_id, cash=cny("3.00"))  # b's balance moved: held
    outbound.run(payouts.PAY_LINE, run.lines.get(account=b).pk)
    sandbox.add_fault(ASSETS, "5xx", count=100, status=502)  # a: Feishu never answers
    line = run.lines.get(account=a)
    with pytest.raises(TryLater):
        outbound.run(payouts.PAY_LINE, line.pk)
    assert outbound.give_up(payouts.PAY_LINE, line.pk, "Feishu had an internal error") == CallStatus.QUEUED
    PayoutRun.objects.filter(pk=run.pk).update(decided_at=timezone.now() - timedelta(minutes=29))
    assert stuck_and_failed() == (0, 1)  # approved 29 minutes ago: its retries may still answer
    PayoutRun.objects.filter(pk=run.pk).update(decided_at=timezone.now() - timedelta(minutes=31))
    assert stuck_and_failed() == (1, 1)


def test_a_worker_killed_mid_run_and_another_one_started_pay_each_line_once(
    sandbox, people, with_cash, start_celery_worker
):
    """SIGKILL on a real worker while it pays (each withdrawal slowed down, so one is in flight
    in Feishu when it dies); the claims and leases run out; a second worker finishes the run."""
    import signal

    from config.celery import app as celery_app
    from referrals import tasks

    accounts = with_cash(6, amount="1.00")
    run = prepared(people)
    celery_app.conf.task_always_eager = False
    payouts.payout_approve(run.pk, people["approver"])  # its dispatch waits in the broker
    sandbox.add_fault("*/withdraw", "slow", count=100, delay=0.6)  # Feishu acts, 0.6 s late
    first = start_celery_worker()
    first(lambda: run.lines.filter(status=CallStatus.SUCCEEDED).count() >= 2, what="two lines paid")
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)
    time.sleep(1)  # the withdrawal in flight finishes in Feishu; its answer reaches nobody
    assert run.lines.filter(status=CallStatus.QUEUED).exists()
    sandbox.clear_faults()
    past = timezone.now() - timedelta(seconds=1)  # the claims and leases have run out
    PayoutLine.objects.filter(run=run, status=CallStatus.QUEUED).update(
        dispatched_until=past, leased_until=past
    )

    second = start_celery_worker()
    tasks.payout_dispatch.delay()  # beat's next tick
    second(lambda: PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.FINISHED, what="run finished")
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}
    books = {a["account_id"]: a["withdrawals"] for a in sandbox.state()["accounts"]}
    assert [len(books[a.account_id]) for a in accounts] == [1] * 6  # none paid twice
    assert Withdrawal.objects.filter(status=CallStatus.SUCCEEDED).count() == 6


def test_the_approvers_are_told_in_the_feishu_group_too(sandbox, people, with_cash, settings, register):
    bot = sandbox.create_bot(token="payout-bot-token")
    settings.ALERT_FEISHU_BOT_URL = bot["url"]
    with_cash(1, amount="6.00")
    run = prepared(people)
    [message] = sandbox.bot_messages("payout-bot-token")
    assert "6.00 CNY" in str(message) and f"/admin/referrals/payoutrun/{run.pk}/decide/" in str(message)
    assert PayoutRun.objects.get(pk=run.pk).notice_error == ""
    # A group that refuses the message (a keyword it lacks): said on the run, for its preparer.
    refusing = sandbox.create_bot(token="refusing-bot-token", keywords=["不会出现的词"])
    settings.ALERT_FEISHU_BOT_URL = refusing["url"]
    late = register(name="后来", email="later@example.com", cash=cny("1.00"))
    balance_pull(late.pk)
    second = prepared(people)
    with translation.override("en"):
        assert "Feishu group bot: HTTP " in PayoutRun.objects.get(pk=second.pk).notice_error


def test_the_run_shows_what_the_daily_reconciliation_found(sandbox, people, with_cash):
    """A payout's withdrawals are in the reconciliation's window; Feishu reports a mismatch on an
    account of the run (points withdrawn in Feishu that hireops never recorded): on the run."""
    from hireops.feishu import get_client, hire
    from referrals.admin.payouts import reconciliation_of
    from referrals.withdrawals.services import reconciliation_request

    a, _other = with_cash(2, amount="2.00", points=40)
    run = prepared(people)
    payouts.payout_approve(run.pk, people["approver"])
    # Someone withdrew a's points in Feishu, outside hireops.
    hire.withdraw(get_client(), a.account_id, bonus_types=[1], external_order_id="outside-hireops")
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=1)
    reconciliation_request(start, end)  # eager: sent and answered
    found = reconciliation_of(run)
    assert (found["paid"], found["covered"]) == (2, 2)
    assert [line.account_id for line in found["mismatches"]] == [a.pk]


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "prepared: 1 line, 4.00 CNY."), ("zh-CN", "已准备：1 行，4.00 CNY。")],
)
def test_one_prepared_line_is_said_in_the_singular(sandbox, people, with_cash, client, language, said):
    """ "1 line", not "1 lines": every count said goes through ngettext."""
    (account,) = with_cash(1, amount="4.00")
    client.force_login(people["preparer"])
    chosen = {
        "action": "prepare_payout_run",
        "_selected_action": [account.pk],
        "prepare": "1",
        "title": "一人",
    }
    accounts = reverse("admin:referrals_referralaccount_changelist")
    page = client.post(accounts, chosen, follow=True, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert said in page and "1 lines" not in page


def test_an_approver_never_decides_a_run_that_pays_their_own_account(sandbox, people, with_cash):
    """Money needs two independent people: an approver whose own referral account is in the run
    (by the employee id their Feishu sign-in gave, or by their email) is refused, nothing changed."""
    from hireops.signin.identities import link_identity

    mine, theirs = with_cash(2, amount="5.00")
    run = prepared(people)
    approver = people["approver"]
    approver.email = mine.email.upper()  # the same address, however it is written
    approver.save()
    for decide in (
        lambda: payouts.payout_approve(run.pk, approver),
        lambda: payouts.payout_reject(run.pk, approver, "no"),
    ):
        with pytest.raises(payouts.PayoutRefused, match="pays your own referral account"):
            decide()
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL
    assert not payouts.may_decide(run, approver)

    # Another address, but the employee id Feishu gave at sign-in is the account's.
    approver.email = "ok@example.com"
    approver.save()
    ReferralAccount.objects.filter(pk=theirs.pk).update(employee_id="emp-approver")
    link_identity(approver, "ou_approver", "t1")
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.filter(uid="ou_approver").update(
        extra_data={"open_id": "ou_approver", "tenant_key": "t1", "user_id": "emp-approver"}
    )
    with pytest.raises(payouts.PayoutRefused, match="pays your own referral account"):
        payouts.payout_approve(run.pk, approver)
    # Neither theirs: decided.
    ReferralAccount.objects.filter(pk=theirs.pk).update(employee_id="emp-someone-else")
    assert payouts.may_decide(run, approver)
    assert payouts.payout_approve(run.pk, approver).status == PayoutRunStatus.PAYING
