"""Balance pulls at production size: stalest first, within the quota, on every worker
(referrals.accounts.pulls)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.accounts import pulls
from referrals.accounts.services import balance_pull
from referrals.models import AccountStatus, BalanceChange, ReferralAccount

pytestmark = pytest.mark.django_db(transaction=True)
ASSETS = "/open-apis/hire/v1/referral_account/get_account_assets"


def account(n: int, synced_ago: timedelta | None, status=AccountStatus.ACTIVE, **kw) -> ReferralAccount:
    synced = None if synced_ago is None else timezone.now() - synced_ago
    return ReferralAccount.objects.create(
        name=f"A{n}",
        email=f"a{n}@example.com",
        account_id=f"acc-{n}",
        status=status,
        balance_synced_at=synced,
        **kw,
    )


def test_one_tick_claims_what_a_minute_of_quota_pulls():
    assert pulls.per_tick() == 582  # 10 calls/s paced at 97 %, for 60 s


def test_the_stalest_balances_are_claimed_first_and_fresh_or_claimed_ones_not_at_all():
    never = account(1, None)
    oldest = account(2, timedelta(days=3))
    older = account(3, timedelta(hours=5))
    account(4, timedelta(minutes=2))  # confirmed moments ago
    account(5, timedelta(days=9), status=AccountStatus.FAILED)  # not registered: nothing to pull
    claimed = account(6, timedelta(days=10), pull_claimed_until=timezone.now() + timedelta(minutes=3))

    assert pulls.claim_due(limit=2) == [never.pk, oldest.pk]
    assert pulls.claim_due(limit=10) == [older.pk]  # the first two are claimed now
    ReferralAccount.objects.filter(pk=claimed.pk).update(
        pull_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert pulls.claim_due(limit=10) == [claimed.pk]  # a lost worker's claim expires


def test_the_tick_queues_batches_the_workers_pull(sandbox, register):
    accounts = [register(name=f"员工{i}", email=f"p{i}@example.com", points=i) for i in range(3)]
    ReferralAccount.objects.update(balance_synced_at=timezone.now() - timedelta(hours=2))
    for a in accounts:
        sandbox.grant_bonus(a.account_id, point_bonus=100)
    sandbox.clear_requests()

    assert pulls.pulls_schedule() == 3  # tasks are eager in tests: the batch ran at once
    assert len(sandbox.requests(ASSETS)) == 3
    assert sorted(ReferralAccount.objects.values_list("points", flat=True)) == [100, 101, 102]
    assert not ReferralAccount.objects.filter(pull_claimed_until__isnull=False).exists()
    assert pulls.pulls_schedule() == 0  # all fresh now


def test_an_app_wide_error_ends_the_batch_and_frees_its_claims(sandbox, register):
    a, b = register(name="甲", email="a@example.com"), register(name="乙", email="b@example.com")
    sandbox.add_fault(ASSETS, "error", status=429, code=99991403, msg="quota exceeded")
    ReferralAccount.objects.update(pull_claimed_until=timezone.now() + timedelta(minutes=5))
    assert pulls.pull_batch([a.pk, b.pk]) == (0, 1)  # the second is not tried
    assert len(sandbox.requests(ASSETS)) == 1
    assert not ReferralAccount.objects.filter(pull_claimed_until__isnull=False).exists()
    assert "quota" in ReferralAccount.objects.get(pk=a.pk).balance_error


def test_a_pull_that_finds_the_balance_unchanged_confirms_it_without_a_history_row(sandbox, register):
    a = register(points=7)
    balance_pull(a.pk)  # the bonus reached us (no webhook in this test)
    before = BalanceChange.objects.filter(account=a).count()
    ReferralAccount.objects.filter(pk=a.pk).update(balance_synced_at=timezone.now() - timedelta(hours=3))
    balance_pull(a.pk)
    a.refresh_from_db()
    assert a.points == 7 and timezone.now() - a.balance_synced_at < timedelta(minutes=1)
    assert BalanceChange.objects.filter(account=a).count() == before
    sandbox.grant_bonus(a.account_id, point_bonus=1)
    balance_pull(a.pk)
    assert BalanceChange.objects.filter(account=a).count() == before + 1
