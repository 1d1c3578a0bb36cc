"""What the referral programme owes (``referrals.owed``): each hour's rollup is the sum of the
changes of the snapshots recorded in it, each from its account's previous snapshot (by id: the
order they were applied in), and equals a GROUP BY over the rows with a LAG window whatever
happened: balances applied in batches under a clock that jumps about the last weeks (several
in one hour, recorded ``at`` earlier than the snapshot before them, at the very same moment),
superseded ones, currencies appearing and vanishing, accounts and single snapshots deleted,
recomputations stopped halfway. The level at the end of today is what the accounts
hold now, also when the history is older than the backfill's year (PostgreSQL)."""

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendDirtyBucket, TrendRollup
from hireops.feishu import hire
from referrals.accounts import owed
from referrals.accounts.balances import Snapshot, balances_apply
from referrals.models import AccountCash, AccountStatus, BalanceChange, BalanceSource, ReferralAccount
from referrals.owed import cash_owed, points_owed
from tests.trend_rollups import assert_kept_equals, killed_recompute

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups are proved on PostgreSQL"),
]

# Each snapshot's change from the previous one of its account, per unit, grouped by hour.
CHANGES = """
WITH s AS (
    SELECT at, points, cash,
           LAG(points) OVER w AS before_points, LAG(cash) OVER w AS before_cash
    FROM {table} WINDOW w AS (PARTITION BY account_id ORDER BY id)
), changes AS (
    SELECT date_trunc('hour', at) AS hour, 'points' AS unit, points - COALESCE(before_points, 0) AS n
    FROM s
    UNION ALL
    SELECT date_trunc('hour', s.at), k.unit,
           ROUND(100 * (COALESCE((s.cash ->> k.unit)::numeric, 0)
                        - COALESCE((s.before_cash ->> k.unit)::numeric, 0)))::bigint
    FROM s CROSS JOIN LATERAL (
        SELECT jsonb_object_keys(s.cash) UNION SELECT jsonb_object_keys(COALESCE(s.before_cash, '{{}}'))
    ) AS k(unit)
)
SELECT hour, unit, SUM(n) FROM changes GROUP BY hour, unit HAVING SUM(n) <> 0
"""


def grouped() -> Counter:
    """(hour, unit, "") → the sum of the changes recorded in the hour, from the rows."""
    with connection.cursor() as cursor:
        cursor.execute(CHANGES.format(table=BalanceChange._meta.db_table))
        return Counter({(hour, unit, ""): int(n) for hour, unit, n in cursor.fetchall()})


def held_now() -> dict[str, int]:
    """What the accounts hold now: their cash rows (hundredths) and their points."""
    held = {
        currency: int(total * 100)
        for currency, total in AccountCash.objects.values_list("currency").annotate(t=Sum("amount"))
    }
    held[owed.POINTS] = ReferralAccount.objects.aggregate(p=Sum("points"))["p"] or 0
    return {unit: n for unit, n in held.items() if n}


def level_now() -> dict[str, int]:
    summed = TrendRollup.objects.filter(metric=owed.METRIC, grain=Grain.DAY).values_list("dimension")
    return {unit: n for unit, n in summed.annotate(n=Sum("count")) if n}


def account(i: int) -> ReferralAccount:
    return ReferralAccount.objects.create(
        name=f"员工{i}", email=f"o{i}@example.com", account_id=f"owed-{i}", status=AccountStatus.ACTIVE
    )


def bonus(rng: random.Random) -> hire.Bonus:
    currencies = rng.sample(["CNY", "USD", "JPY"], rng.randrange(0, 3))
    cash = [hire.Cash(currency_type=c, amount=Decimal(rng.randrange(0, 900_000)) / 100) for c in currencies]
    return hire.Bonus(point_bonus=rng.randrange(0, 5000), cash=cash)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_group_by_after_random_changes(monkeypatch, seed):
    rng = random.Random(seed)
    real_now = timezone.now
    start = real_now()
    accounts = [account(i).pk for i in range(5)]
    modify_time = [1_700_000_000_000]

    def clock():
        # What follows happens at another time of the last weeks, often in an hour already used,
        # earlier than an account's snapshot before it as often as later.
        moment = start - timedelta(minutes=rng.randrange(60 * 24 * 20))
        monkeypatch.setattr(timezone, "now", lambda: moment + (real_now() - start) % timedelta(minutes=1))

    def frozen():
        moment = start - timedelta(minutes=rng.randrange(60 * 24 * 20))
        monkeypatch.setattr(timezone, "now", lambda: moment)  # snapshots at the very same moment

    def apply():
        chosen = rng.sample(accounts, rng.randrange(1, min(3, len(accounts)) + 1)) if accounts else []
        snapshots = []
        for pk in chosen:
            modify_time[0] += rng.randrange(1, 1000)
            # Sometimes older than what is held: superseded, no snapshot.
            moment = modify_time[0] - (10_000 if rng.random() < 0.15 else 0)
            snapshots.append(Snapshot(pk, bonus(rng), moment, reference=f"e{modify_time[0]}"))
        source = rng.choice([BalanceSource.EVENT, BalanceSource.PULL, BalanceSource.WITHDRAWAL])
        balances_apply(snapshots, source=source)

    def delete_account():
        if len(accounts) > 2 and rng.random() < 0.5:  # its history goes with it
            ReferralAccount.objects.filter(pk=accounts.pop(rng.randrange(len(accounts)))).delete()

    def delete_snapshot():
        found = list(BalanceChange.objects.values_list("pk", flat=True))
        if found:  # the next snapshot's change is from the one before it now
            BalanceChange.objects.filter(pk=rng.choice(found)).delete()

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    def recompute_killed():  # a worker killed halfway through a batch
        killed_recompute(monkeypatch, owed.METRIC)

    steps = [clock, clock, frozen, apply, apply, apply, apply, apply, delete_account, delete_snapshot]
    steps += [recompute_some, recompute_killed]
    for _ in range(90):
        rng.choice(steps)()
    monkeypatch.setattr(timezone, "now", real_now)
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    want = grouped()
    assert_kept_equals(owed.METRIC, want)
    assert len({hour for hour, _unit, _o in want}) > 5  # many hours, not one
    assert {"CNY", "USD", "JPY", owed.POINTS} <= {unit for _hour, unit, _o in want}
    assert any(n < 0 for n in want.values())  # balances went down too
    # The level is what each account's latest snapshot holds.
    latest: dict[int, BalanceChange] = {}
    for snapshot in BalanceChange.objects.order_by("id"):
        latest[snapshot.account_id] = snapshot
    held: Counter = Counter()
    for snapshot in latest.values():
        held[owed.POINTS] += snapshot.points
        for currency, amount in snapshot.cash.items():
            held[currency] += int(Decimal(amount) * 100)
    assert level_now() == {unit: n for unit, n in held.items() if n}


def test_the_level_at_the_end_of_today_is_what_the_accounts_hold(rf, staff_user, settings):
    """Balances applied as they come, some older than the backfill's days (30 here, a year by
    default); a backfill from nothing; the chart's today equals the accounts' cash and points
    now, deactivated or not."""
    rng = random.Random(7)
    accounts = [account(i) for i in range(4)]
    modify_time = 1_700_000_000_000
    for _round in range(6):
        for a in accounts:
            modify_time += 1000
            balances_apply([Snapshot(a.pk, bonus(rng), modify_time)], source=BalanceSource.EVENT)
    ReferralAccount.objects.filter(pk=accounts[0].pk).update(status=AccountStatus.DEACTIVATED)
    # The first rounds months before the backfill's 30 days, the next ones over the last weeks.
    snapshots = list(BalanceChange.objects.order_by("at", "id"))
    for i, snapshot in enumerate(snapshots):
        days_ago = 100 - i * 5 if i < 8 else (len(snapshots) - i)
        BalanceChange.objects.filter(pk=snapshot.pk).update(at=timezone.now() - timedelta(days=days_ago))
    TrendRollup.objects.all().delete()
    TrendDirtyBucket.objects.all().delete()
    call_command("trends_backfill", metric=[owed.METRIC], days=30, verbosity=0)
    assert not TrendDirtyBucket.objects.exists()
    want = grouped()
    assert_kept_equals(owed.METRIC, want)
    assert min(hour for hour, _unit, _o in want) < timezone.now() - timedelta(days=90)
    assert level_now() == held_now() and len(held_now()) > 2
    request = rf.get("/admin/")
    request.user = staff_user(perms=["referrals.view_referralaccount"], username="hr-viewer")
    for period in charts.PERIODS.values():
        cash, points = cash_owed(request, period), points_owed(request, period)
        assert cash is not None and points is not None
        today = {key: column[-1] for key, column in {**cash.values, **points.values}.items()}
        assert {unit: int(Decimal(n) * 100) if unit != owed.POINTS else n for unit, n in today.items()} == {
            unit: held_now().get(unit, 0) for unit in today
        }
        assert set(today) == set(held_now())
