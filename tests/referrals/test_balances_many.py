"""Several balances applied at once (a batch of paid payout lines): each as one applied alone
would be, in a number of statements that does not grow with the batch."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hireops.feishu import hire
from referrals.accounts.services import BalanceRefused, Snapshot, balance_apply, balances_apply
from referrals.models import AccountCash, BalanceChange, BalanceSource, ReferralAccount
from referrals.withdrawals.services import zero_withdrawn, zero_withdrawn_many
from tests.factories import a_referral_account

pytestmark = pytest.mark.django_db

CASH, POINTS = hire.BonusType.CASH, hire.BonusType.POINTS


def holding(points: int, **cash: str) -> ReferralAccount:
    account = a_referral_account(points=points, assets_modify_time=1_000)
    for currency, amount in cash.items():
        AccountCash.objects.create(account=account, currency=currency, amount=Decimal(amount))
    return account


def state(account: ReferralAccount) -> tuple:
    """What a balance leaves on an account, without what differs between two accounts."""
    account.refresh_from_db()
    cash = dict(account.cash.order_by("currency").values_list("currency", "amount"))
    history = list(
        BalanceChange.objects.filter(account=account)
        .order_by("pk")
        .values_list("source", "modify_time", "points", "cash", "reference")
    )
    return account.points, account.assets_modify_time, account.balance_error, cash, history


def bonus(points: int, **cash: str) -> hire.Bonus:
    return hire.Bonus(point_bonus=points, cash=[hire.Cash(c, Decimal(a)) for c, a in cash.items()])


# (what the account holds, the snapshot's bonus, its time): newer, older, the same again, a
# currency gone and one new, nothing at all.
CASES = [
    ((5, {"CNY": "3.00"}), bonus(7, CNY="4.50"), 2_000),
    ((5, {"CNY": "3.00"}), bonus(9), 500),
    ((5, {"CNY": "3.00"}), bonus(5, CNY="3.00"), 3_000),
    ((0, {"CNY": "3.00", "USD": "1.00"}), bonus(0, USD="2.00", HKD="8.10"), 4_000),
    ((2, {}), bonus(0), 5_000),
]


@pytest.mark.parametrize("source", [BalanceSource.EVENT, BalanceSource.PULL])
def test_several_balances_at_once_leave_what_each_alone_would(source):
    alone = [holding(p, **c) for (p, c), _, _ in CASES]
    together = [holding(p, **c) for (p, c), _, _ in CASES]
    applied_alone = {
        a.pk
        for a, (_, b, t) in zip(alone, CASES, strict=True)
        if balance_apply(a.pk, b, modify_time=t, source=source, reference=f"r{t}")
    }
    snapshots = [Snapshot(a.pk, b, t, f"r{t}") for a, (_, b, t) in zip(together, CASES, strict=True)]
    applied = balances_apply(snapshots, source=source)
    assert (
        [a.pk in applied_alone for a in alone]
        == [a.pk in applied for a in together]
        == [
            True,
            False,
            True,
            True,
            True,
        ]
    )
    assert [state(a) for a in together] == [state(a) for a in alone]


def test_the_statements_do_not_grow_with_the_batch():
    def statements(n: int) -> int:
        accounts = [holding(3, CNY="10.00") for _ in range(n)]
        with CaptureQueriesContext(connection) as queries:
            zero_withdrawn_many([(a.pk, 9_000, f"order-{a.pk}") for a in accounts], [CASH])
        for account in accounts:
            assert state(account)[:4] == (3, 9_000, "", {})  # the cash out, the points as they were
        return len(queries.captured_queries)

    assert statements(10) == statements(1) <= 10


def test_one_withdrawal_alone_and_in_a_batch_leave_the_same():
    alone, together = holding(4, CNY="2.50"), holding(4, CNY="2.50")
    zero_withdrawn(alone.pk, [CASH, POINTS], 7_000, "order-1")
    zero_withdrawn_many([(together.pk, 7_000, "order-1")], [CASH, POINTS])
    assert state(alone) == state(together)
    assert state(together)[:4] == (0, 7_000, "", {})


def test_a_refusal_anywhere_writes_nothing_of_any():
    first, second = holding(1, CNY="1.00"), holding(1, CNY="1.00")
    too_large = bonus(0, CNY="1" * 20)  # beyond the column's 16 digits
    with pytest.raises(BalanceRefused):
        balances_apply(
            [Snapshot(first.pk, bonus(8), 2_000), Snapshot(second.pk, too_large, 2_000)],
            source=BalanceSource.EVENT,
        )
    assert state(first)[:4] == state(second)[:4] == (1, 1_000, "", {"CNY": Decimal("1.00")})
    assert not BalanceChange.objects.exists()


def test_one_account_twice_in_a_batch_is_refused():
    account = holding(1)
    with pytest.raises(ValueError, match="one balance snapshot an account"):
        balances_apply(
            [Snapshot(account.pk, bonus(2), 2_000), Snapshot(account.pk, bonus(3), 3_000)],
            source=BalanceSource.EVENT,
        )
    assert state(account)[:2] == (1, 1_000)
