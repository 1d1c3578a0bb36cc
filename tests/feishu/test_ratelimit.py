import pytest

from hireops.feishu.coordination import FileCoordinator
from hireops.feishu.ratelimit import QUOTAS, Quota, RateLimiter


@pytest.mark.parametrize(
    ("endpoint", "interval"),
    [
        ("hire.eco_account_custom_field.create", 0.060),  # 1000/min is tighter than 50/s
        ("hire.eco_account_custom_field.batch_delete", 0.060),
        ("hire.referral_account.create", 0.600),
        ("hire.referral_account.get_account_assets", 0.100),
        ("hire.referral_account.withdraw", 0.600),
        ("hire.referral_account.reconciliation", 0.600),
        ("hire.referral_account.enable", 0.100),
        ("hire.referral_account.deactivate", 0.600),
        ("auth.tenant_access_token.internal", 0.0),
    ],
)
def test_pacing_is_the_tightest_window_at_97_percent(tmp_path, endpoint, interval):
    limiter = RateLimiter(FileCoordinator(tmp_path))
    assert limiter.interval(endpoint) == pytest.approx(interval / 0.97)


def test_sustained_rate_stays_between_95_and_100_percent_of_the_tightest_window(tmp_path):
    limiter = RateLimiter(FileCoordinator(tmp_path))
    for endpoint, quota in QUOTAS.items():
        per_second = 1 / limiter.interval(endpoint)
        windows = [q for q in (quota.per_second, (quota.per_minute or 0) / 60) if q]
        assert 0.95 * min(windows) <= per_second < min(windows), endpoint


def test_limits_are_per_app_tenant_and_endpoint(tmp_path):
    quotas = {"e": Quota(per_second=1), "f": Quota(per_second=1)}
    limiter = RateLimiter(FileCoordinator(tmp_path), quotas=quotas)
    assert limiter.acquire("app", "t1", "e") == 0
    assert limiter.acquire("app", "t2", "e") == 0
    assert limiter.acquire("app", "t1", "f") == 0
    assert limiter.acquire("other", "t1", "e") == 0
    assert limiter.acquire("app", "t1", "e") > 0.9


def test_a_shortened_minute_paces_the_per_minute_quotas_only(tmp_path):
    """The suite's shortened minute (tests/settings.py) spaces a per-minute quota's calls as
    that minute allows and leaves the per-second quotas as Feishu counts them."""
    limiter = RateLimiter(FileCoordinator(tmp_path), minute=6.0)
    assert limiter.interval("hire.referral_account.withdraw") == pytest.approx(0.06 / 0.97)
    assert limiter.interval("hire.referral_account.get_account_assets") == pytest.approx(0.1 / 0.97)
    assert limiter.interval("hire.eco_account_custom_field.create") == pytest.approx(0.02 / 0.97)  # 50/s


def test_the_client_and_the_sandbox_count_the_same_minute(sandbox, settings):
    """Whatever minute the run uses, the client never paces to a shorter one than the sandbox
    counts: a test that makes a minute's worth of calls is paced, never refused."""
    from hireops.feishu import get_client

    minute = get_client().limiter.minute
    assert minute == settings.FEISHU_QUOTA_MINUTE
    assert sandbox.server.limiter.limits["referral_account.withdraw"] == [(100, minute)]
    assert sandbox.server.limiter.limits["referral_account.get_account_assets"] == [(10, 1.0)]
