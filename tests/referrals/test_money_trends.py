"""HR's money trends: the rewards Feishu accepted and the withdrawals it confirmed, per hour
and day, their number and their amounts per currency, equal a GROUP BY over the rows whatever
happened to them: rewards imported (cash in two currencies, points), refused, deleted in
Feishu; withdrawals asked for, refused; payout runs paid; at any time of the last weeks; and a
recomputation stopped halfway (PostgreSQL, against the sandbox)."""

import contextlib
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from hireops.core import trends
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from hireops.core.trends.models import Grain, TrendDirtyBucket, TrendRollup
from referrals.models import ExternalReferralReward, PayoutLine, Withdrawal
from referrals.payouts import services as payouts
from referrals.payouts import trend as payout_trend
from referrals.rewards import trend as reward_trend
from referrals.rewards.services import RewardInput, RewardRefused, reward_add, reward_delete_request
from referrals.withdrawals import trend as withdrawal_trend
from referrals.withdrawals.services import WithdrawalRefused, withdrawal_request
from tests.second_factor import give_totp
from tests.trend_rollups import killed_recompute

from .conftest import reload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups are proved on PostgreSQL"),
]

CREATE = "/open-apis/hire/v1/external_referral_rewards"
WITHDRAW = "/open-apis/hire/v1/referral_account/{}/withdraw"


def hundredths(amount) -> int:
    return int(Decimal(str(amount)) * 100)


def expected() -> dict[str, Counter]:
    """The rows grouped by the hour they were accepted or confirmed in (and by local day):
    their number (dimension "") and their amounts per unit."""
    hours: Counter = Counter()
    rewards = ExternalReferralReward.objects.filter(status=CallStatus.SUCCEEDED, deleted_at__isnull=True)
    for at, currency, amount, points in rewards.values_list("finished_at", "currency", "amount", "points"):
        hour = trends.hour_of(at)
        hours[reward_trend.METRIC, hour, "", ""] += 1
        if amount is not None:
            hours[reward_trend.METRIC, hour, currency, ""] += hundredths(amount)
        if points:
            hours[reward_trend.METRIC, hour, "points", ""] += points
    confirmed = Withdrawal.objects.filter(status=CallStatus.SUCCEEDED)
    for at, points, cash in confirmed.values_list("finished_at", "withdrawn_points", "withdrawn_cash"):
        hour = trends.hour_of(at)
        hours[withdrawal_trend.METRIC, hour, "", ""] += 1
        hours[withdrawal_trend.METRIC, hour, "points", ""] += points or 0
        for currency, amount in (cash or {}).items():
            hours[withdrawal_trend.METRIC, hour, currency, ""] += hundredths(amount)
    paid = PayoutLine.objects.filter(status=CallStatus.SUCCEEDED)
    for at, run, cash in paid.values_list("finished_at", "run_id", "withdrawn_cash"):
        hours[payout_trend.METRIC, trends.hour_of(at), "", str(run)] += 1
        for currency, amount in (cash or {}).items():
            hours[payout_trend.METRIC, trends.hour_of(at), currency, str(run)] += hundredths(amount)
    days: Counter = Counter()
    for (metric, hour, unit, outcome), n in hours.items():
        days[metric, trends.day_of(hour), unit, outcome] += n
    return {Grain.HOUR: +hours, Grain.DAY: +days}


def rollups(grain: str) -> Counter:
    rows = TrendRollup.objects.filter(
        metric__in=[reward_trend.METRIC, withdrawal_trend.METRIC, payout_trend.METRIC], grain=grain
    ).values_list("metric", "bucket", "dimension", "outcome", "count")
    return Counter({(m, b, d, o): n for m, b, d, o, n in rows})


@pytest.fixture
def people(staff_user):
    made = {
        "preparer": staff_user(roles.HR, username="preparer"),
        "approver": staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="approver"),
    }
    for user in made.values():
        give_totp(user)
    return made


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_a_group_by_after_random_changes(sandbox, register, people, monkeypatch, seed):
    rng = random.Random(seed)
    real_now = timezone.now
    start = real_now()
    accounts = [register(name=f"员工{i}", email=f"t{seed}-{i}@example.com") for i in range(4)]
    referrers = [
        sandbox.add_employee(name=f"推荐人{i}", email=f"r{seed}-{i}@example.com")["user_id"] for i in range(3)
    ]
    imported: list[int] = []

    def clock():
        # What follows happens at another time of the last weeks: rows land in many hours.
        moment = start - timedelta(minutes=rng.randrange(60 * 24 * 40))
        monkeypatch.setattr(timezone, "now", lambda: moment + (real_now() - start) % timedelta(minutes=1))

    def grant():
        account = rng.choice(accounts)
        cash = [
            {
                "currency_type": rng.choice(["CNY", "USD"]),
                "amount": f"{rng.randrange(1, 5000)}.{rng.randrange(100):02d}",
            }
        ]
        sandbox.grant_bonus(account.account_id, point_bonus=rng.randrange(0, 300), cash=cash)

    def import_reward():
        cash = rng.random() < 0.7
        data = {
            "external_id": f"x{seed}-{len(imported)}",
            "employee_id": rng.choice(referrers),
            "rule_type": "1",
            "stage": "2",
            "talent_id": "talent-1",
            **(
                {
                    "currency": rng.choice(["CNY", "USD"]),
                    "amount": f"{rng.randrange(1, 900)}.{rng.randrange(100):02d}",
                }
                if cash
                else {"points": str(rng.randrange(1, 500))}
            ),
        }
        if rng.random() < 0.2:  # Feishu refuses it: not a reward
            sandbox.add_fault(CREATE, "error", status=400, code=1002001, msg="refused (fault)")
        reward, _created = reward_add(RewardInput.from_text(data))
        imported.append(reward.pk)

    def import_again():
        if imported:  # the same external id again: nothing changes
            reward = ExternalReferralReward.objects.get(pk=rng.choice(imported))
            reward_add(
                RewardInput.from_text(
                    {
                        "external_id": reward.external_id,
                        "employee_id": reward.employee_id,
                        "rule_type": "1",
                        "stage": "2",
                        "talent_id": "talent-1",
                        **(
                            {"currency": reward.currency, "amount": str(reward.amount)}
                            if reward.amount
                            else {"points": str(reward.points)}
                        ),
                    }
                )
            )

    def delete_reward():
        if imported:
            reward = ExternalReferralReward.objects.get(pk=rng.choice(imported))
            with contextlib.suppress(RewardRefused):  # not in Feishu, or deleted already
                reward_delete_request(reward, "录错了")

    def withdraw():
        account = reload(rng.choice(accounts))
        if rng.random() < 0.2:
            sandbox.add_fault(
                WITHDRAW.format(account.account_id),
                "error",
                status=400,
                code=1002555,
                msg="deactivated (fault)",
            )
        with contextlib.suppress(WithdrawalRefused):  # deactivated by a refusal, or in a payout run
            withdrawal_request(account, rng.choice([[1], [2], [1, 2]]))

    def pay_a_run():
        from referrals.accounts.services import balance_pull

        for account in accounts:
            balance_pull(account.pk)
        try:
            run = payouts.payout_prepare(people["preparer"], title="月度")
            payouts.payout_approve(run.pk, people["approver"])
        except payouts.PayoutRefused:
            pass  # nothing to pay

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    def recompute_killed():  # a worker killed halfway through a batch
        killed_recompute(monkeypatch, reward_trend.METRIC, withdrawal_trend.METRIC, payout_trend.METRIC)

    steps = [
        clock,
        clock,
        grant,
        grant,
        import_reward,
        import_reward,
        import_reward,
        import_again,
        delete_reward,
        withdraw,
        withdraw,
        pay_a_run,
        recompute_some,
        recompute_killed,
    ]
    for _ in range(60):
        rng.choice(steps)()
    monkeypatch.setattr(timezone, "now", real_now)
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    want = expected()
    assert rollups(Grain.HOUR) == want[Grain.HOUR]
    assert rollups(Grain.DAY) == want[Grain.DAY]
    assert len({b for _m, b, _d, _o in want[Grain.HOUR]}) > 3  # many hours, not one
    assert any(d not in ("", "points") for _m, _b, d, _o in want[Grain.HOUR])
    assert any(m == payout_trend.METRIC for m, _b, _d, _o in want[Grain.HOUR])
    assert Withdrawal.objects.filter(status=CallStatus.SUCCEEDED).exists()
    assert ExternalReferralReward.objects.filter(deleted_at__isnull=False).exists() or seed != 1
