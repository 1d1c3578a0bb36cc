"""HR's leavers trend: the leavers who arrived in each hour, day and month, by what became of
them, equal a GROUP BY over the rows whatever happened to them since, in any order: employees
leaving (directory events through the real webhook, the same event twice), matched by the
directory or by hand, confirmed without an account, policies applied (each of the three), paid
at once or by payout runs, payouts failing, deactivations confirmed or refused and asked again
by the sweep, marked as handled; under a clock that moves through several months, with
recomputations between the changes (PostgreSQL, against the sandbox)."""

import contextlib
import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hireops import outbound
from hireops.core import trends
from hireops.core.auth import roles
from hireops.core.trends.models import TrendDirtyBucket
from hireops.outbound.retry import TryLater
from referrals.accounts.services import balance_pull
from referrals.accounts.status import CHANGE
from referrals.leavers import services as leavers
from referrals.leavers import trend as leaver_trend
from referrals.models import Leaver, LeaverMatch, LeaverPolicy, LeaverState
from referrals.payouts import services as payouts
from referrals.withdrawals.services import WITHDRAW as WITHDRAW_KIND
from tests.events.payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed
from tests.second_factor import give_totp
from tests.trend_rollups import assert_kept_equals

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups are proved on PostgreSQL"),
]

WITHDRAW = "/open-apis/hire/v1/referral_account/*/withdraw"
DEACTIVATE = "/open-apis/hire/v1/referral_account/*/deactivate"


def grouped() -> Counter:
    """The leavers grouped by the hour they arrived in and by their outcome now."""
    hours: Counter = Counter()
    for created_at, *fields in Leaver.objects.values_list("created_at", *leaver_trend.FIELDS):
        hours[trends.hour_of(created_at), "", str(leaver_trend.outcome(*fields))] += 1
    return hours


def directory_event(n: int, user: dict, *, deleted: bool) -> dict:
    """contact.user.deleted_v3, or updated_v3 to resigned, of ``user`` (as Feishu pushes it)."""
    obj = {
        "open_id": f"ou_{user['user_id']}",
        "union_id": f"on_{user['user_id']}",
        "user_id": user["user_id"],
        "name": user["name"],
        "email": user["email"],
        "status": {"is_resigned": not deleted, "is_activated": deleted},
    }
    return {
        "schema": "2.0",
        "header": {
            "event_id": f"ev-leave-{n}",
            "event_type": "contact.user.deleted_v3" if deleted else "contact.user.updated_v3",
            "create_time": "1608725989000",
            "token": TOKEN,
            "app_id": "cli_test",
            "tenant_key": "",
        },
        "event": {"object": obj, "old_object": {"open_id": obj["open_id"]}},
    }


@pytest.fixture
def people(staff_user):
    made = {
        "hr": staff_user(roles.HR, username="hr"),
        "approver": staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="approver"),
    }
    give_totp(made["approver"])
    return made


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_a_group_by_after_random_changes(
    client, sandbox, register, people, settings, monkeypatch, seed
):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    rng = random.Random(seed)
    real_now = timezone.now
    start = real_now()
    staff = []  # people in the directory: (the user as an event names them, their account or None)
    for i in range(20):
        email = f"leaver{seed}-{i}@example.com"
        if i % 5 == 4:  # no referral account: a person must decide
            user = sandbox.add_employee(name=f"员工{i}", email=email)
            staff.append(({"user_id": user["user_id"], "name": f"员工{i}", "email": email}, None))
            continue
        account = register(name=f"员工{i}", email=email)
        if i % 3:
            sandbox.grant_bonus(
                account.account_id, point_bonus=10 * i, cash=[{"currency_type": "CNY", "amount": f"{i}.50"}]
            )
            balance_pull(account.pk)
        user_id = next(
            a["user_id"] for a in sandbox.state()["accounts"] if a["account_id"] == account.account_id
        )
        staff.append(({"user_id": user_id, "name": f"员工{i}", "email": email}, account))
    spare = [account for _user, account in staff if account is not None][-2:]  # matched by hand
    left: list[dict] = []
    serial = iter(range(10_000))
    # Feishu answers some deactivations and withdrawals only later (a step of its own), after
    # recomputations: the leaver moves on in a write of its own, which must mark its month again.
    held: list[tuple] = []
    real_send = outbound.Outbound.send

    def send(kind, pk):
        if kind.name in (CHANGE.name, WITHDRAW_KIND.name) and rng.random() < 0.5:
            held.append((kind, pk))
        else:
            real_send(kind, pk)

    monkeypatch.setattr(outbound.Outbound, "send", send)

    def feishu_answers():
        while held:
            kind, pk = held.pop(rng.randrange(len(held)))
            with contextlib.suppress(TryLater):  # another change of the account first: later
                outbound.run(kind, pk)

    def clock():
        # What follows happens at another time of the last four months.
        moment = start - timedelta(minutes=rng.randrange(60 * 24 * 120))
        monkeypatch.setattr(timezone, "now", lambda: moment + (real_now() - start) % timedelta(minutes=1))

    def leave():
        waiting = [user for user, _account in staff if user not in left]
        if not waiting:
            return
        user = rng.choice(waiting)
        settings.REFERRAL_LEAVER_POLICY = rng.choice(LeaverPolicy.values)
        if rng.random() < 0.2:  # Feishu refuses what the policy asks first
            path = rng.choice([WITHDRAW, DEACTIVATE])
            sandbox.add_fault(path, "error", status=400, code=1002553, msg="refused (fault)")
        assert (
            post_delivery(
                client, *signed(directory_event(next(serial), user, deleted=rng.random() < 0.5))
            ).status_code
            == 200
        )
        left.append(user)

    def grant():
        # Cash on an account whose employee has not left yet: a policy pays it (runs pay it too).
        staying = [account for user, account in staff if account is not None and user not in left]
        if staying:
            account = rng.choice(staying)
            cash = [{"currency_type": "CNY", "amount": f"{rng.randrange(1, 900)}.50"}]
            sandbox.grant_bonus(account.account_id, point_bonus=rng.randrange(0, 50), cash=cash)
            balance_pull(account.pk)

    def leave_again():
        if left:  # the other event of one who left, or the same again: the same leaver
            assert (
                post_delivery(
                    client, *signed(directory_event(next(serial), rng.choice(left), deleted=True))
                ).status_code
                == 200
            )

    def needing_a_person():
        return list(Leaver.objects.filter(state=LeaverState.NEEDS_PERSON).order_by("pk"))

    def match_by_hand():
        found = [leaver for leaver in needing_a_person() if leaver.match != LeaverMatch.MATCHED]
        if found:
            with contextlib.suppress(leavers.LeaverRefused):
                leavers.leaver_match_by_hand(rng.choice(found), rng.choice(spare), people["hr"])

    def no_account():
        found = [leaver for leaver in needing_a_person() if leaver.match != LeaverMatch.MATCHED]
        if found:
            leavers.leaver_no_account(rng.choice(found), people["hr"])

    def apply_now():
        found = needing_a_person() + list(Leaver.objects.filter(state=LeaverState.DEACTIVATING))
        if found:
            settings.REFERRAL_LEAVER_POLICY = rng.choice(LeaverPolicy.values)
            with contextlib.suppress(leavers.LeaverRefused):
                leavers.leaver_apply_now(rng.choice(found), people["hr"])

    def mark_handled():
        found = list(Leaver.objects.exclude(state=LeaverState.DONE))
        if found:
            with contextlib.suppress(leavers.LeaverRefused):  # its account is still active
                leavers.leaver_mark_handled(rng.choice(found), people["hr"])

    def pay_a_run():
        for _user, account in staff:
            if account is not None:
                balance_pull(account.pk)
        if rng.random() < 0.3:  # one line's payout fails
            sandbox.add_fault(WITHDRAW, "error", status=400, code=1002553, msg="refused (fault)")
        try:
            run = payouts.payout_prepare(people["hr"], title="月度")
            payouts.payout_approve(run.pk, people["approver"])
        except payouts.PayoutRefused:
            pass  # nothing to pay

    def sweep():
        leavers.leavers_sweep(retry_after=timedelta(0))

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    steps = [
        clock,
        clock,
        grant,
        grant,
        grant,
        leave,
        leave,
        leave,
        leave_again,
        match_by_hand,
        no_account,
        apply_now,
        mark_handled,
        pay_a_run,
        sweep,
        feishu_answers,
        recompute_some,
        recompute_some,
    ]
    for _ in range(110):
        rng.choice(steps)()
    monkeypatch.setattr(timezone, "now", real_now)
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    want = grouped()
    assert_kept_equals(leaver_trend.METRIC, want)
    assert len({trends.month_of(hour) for hour, _d, _o in want}) > 2  # several months, not one
    outcomes = {outcome for _h, _d, outcome in want}
    assert len(outcomes) >= 4, outcomes  # the changes reached several outcomes
