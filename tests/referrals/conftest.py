import pytest
from django.core.cache import cache  # noqa: F401

from referrals.identity import person
from referrals.models import AccountStatus, ReferralAccount
from referrals.registration import account_register

WITHDRAW = "/open-apis/hire/v1/referral_account/{}/withdraw"


@pytest.fixture
def register(sandbox):
    """Register an employee known to the sandbox and return the (active) account."""

    def make(name="王小明", email="xiaoming@example.com", points=0, cash=None):
        sandbox.add_employee(name=name, email=email)
        account = account_register(person(name=name, email=email))
        account.refresh_from_db()
        assert account.status == AccountStatus.ACTIVE, account.error
        if points or cash:
            sandbox.grant_bonus(account.account_id, point_bonus=points, cash=cash)
        return account

    return make


def reload(account) -> ReferralAccount:
    return ReferralAccount.objects.get(pk=account.pk)
