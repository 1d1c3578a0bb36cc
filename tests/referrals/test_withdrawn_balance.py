"""What a withdrawal leaves on the account: the withdrawn types empty as of Feishu's transaction
time, the others as the account holds them when that is recorded, under its row lock, not as
they were read before Feishu was called (a withdrawal's or a payout line's effect runs after
the call, and a balance change may have been applied meanwhile)."""

from decimal import Decimal

import pytest

from hireops.feishu import hire
from referrals.accounts.services import balance_apply
from referrals.models import BalanceSource
from referrals.withdrawals.services import zero_withdrawn
from tests.factories import a_referral_account

pytestmark = pytest.mark.django_db


def test_a_withdrawal_keeps_the_points_held_when_it_is_recorded_not_when_the_account_was_read():
    account = a_referral_account(points=10, assets_modify_time=1_000)
    account.cash.create(currency="CNY", amount=Decimal("50.00"))
    # While Feishu was being called for the withdrawal: an event, 25 points as of t=2,000, the
    # cash unchanged.
    event = hire.Bonus(point_bonus=25, cash=[hire.Cash(currency_type="CNY", amount=Decimal("50.00"))])
    assert balance_apply(account.pk, event, modify_time=2_000, source=BalanceSource.EVENT)

    zero_withdrawn(account.pk, [hire.BonusType.CASH], 3_000, "order-1")

    account.refresh_from_db()
    assert (account.points, account.assets_modify_time) == (25, 3_000)
    assert not account.cash.exists()


def test_a_withdrawal_older_than_the_balance_held_changes_nothing():
    account = a_referral_account(points=25, assets_modify_time=5_000)
    account.cash.create(currency="CNY", amount=Decimal("7.00"))

    zero_withdrawn(account.pk, [hire.BonusType.CASH], 3_000, "order-2")

    account.refresh_from_db()
    assert (account.points, account.assets_modify_time) == (25, 5_000)
    assert list(account.cash.values_list("currency", "amount")) == [("CNY", Decimal("7.00"))]
