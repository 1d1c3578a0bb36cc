"""An account's cash is promised once, whatever starts at the same moment: a payout run's
preparation and a withdrawal, or two preparations. Each locks the account's row, and whichever
comes second waits for the first to commit, then sees its line or its withdrawal and leaves the
account alone (PostgreSQL: the order of two sessions is the subject)."""

from collections.abc import Callable

import pytest
from django.db import connection

from hireops.feishu import hire
from referrals.accounts.services import balance_pull
from referrals.models import PayoutLine, Withdrawal
from referrals.payouts import preparation
from referrals.payouts import services as payouts
from referrals.payouts.amounts import PayoutRefused
from referrals.withdrawals import guards
from referrals.withdrawals.services import WithdrawalRefused, withdrawal_request
from tests.lock_waits import AnotherSession

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two sessions' locks: PostgreSQL"),
]

CASH = hire.BonusType.CASH


@pytest.fixture
def account(sandbox, register):
    made = register(name="员工", email="p@example.com", cash=[{"currency_type": "CNY", "amount": "2.00"}])
    balance_pull(made.pk)
    return made


def pausing(monkeypatch, module, name: str, meanwhile: Callable[[], None]) -> None:
    """``module.name`` calls ``meanwhile`` (the other connection) first, once, then itself."""
    real = getattr(module, name)
    calls = []

    def paused(*args, **kwargs):
        if not calls:
            calls.append(1)
            meanwhile()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, paused)


def test_a_withdrawal_asked_while_a_run_takes_the_account_waits_and_is_refused(monkeypatch, account):
    withdrawal = AnotherSession(lambda: withdrawal_request(account, [CASH]))
    # The run has locked the account and is about to write its line.
    pausing(monkeypatch, preparation, "_write_lines", withdrawal.start_and_wait_for_its_lock)

    run = payouts.payout_prepare(pks=[account.pk])

    assert isinstance(withdrawal.finished(), WithdrawalRefused)
    assert list(PayoutLine.objects.values_list("run", "account")) == [(run.pk, account.pk)]
    assert not Withdrawal.objects.exists()


def test_a_run_prepared_while_a_withdrawal_takes_the_account_waits_and_leaves_it_out(monkeypatch, account):
    run = AnotherSession(lambda: payouts.payout_prepare(pks=[account.pk]))
    # The withdrawal has locked the account and is about to ask its guards.
    pausing(monkeypatch, guards, "cash_refusal", run.start_and_wait_for_its_lock)

    withdrawal = withdrawal_request(account, [CASH])

    assert isinstance(run.finished(), PayoutRefused)  # nothing left to pay
    assert not PayoutLine.objects.exists()
    assert list(Withdrawal.objects.values_list("pk", flat=True)) == [withdrawal.pk]


def test_two_runs_prepared_at_once_pay_the_account_in_one(monkeypatch, account):
    second = AnotherSession(lambda: payouts.payout_prepare(pks=[account.pk]))
    pausing(monkeypatch, preparation, "_write_lines", second.start_and_wait_for_its_lock)

    first = payouts.payout_prepare(pks=[account.pk])

    assert isinstance(second.finished(), PayoutRefused)
    assert list(PayoutLine.objects.values_list("run", "account")) == [(first.pk, account.pk)]
