"""Benchmark: the scheduled balance pull at production size, for one tenant and for many.

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/balance_pull.py [--accounts 200000]
        [--minutes 3] [--concurrency 4] [--tenants 1000] [--tenant-minutes 3]
        [--tenant-concurrency 4,8]

Seeds the Feishu sandbox (a subprocess) and a PostgreSQL database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/hireops_pull_bench, created and migrated here) with
``--accounts`` referral accounts, never pulled. Then, as production runs it: a real ``celery
worker`` (threads pool) on the Redis broker, and the schedule's tick
(``referrals.pull_balances``, what beat sends every minute) sent every minute. The client's
rate limiter is shared through Redis.

1. One tenant (a self-built app), the peer: ``--minutes`` ticks on a ``--concurrency`` worker.
   ``get_account_assets`` allows 10 calls/s per app and tenant, so this is bounded by the
   quota: calls per second against it, the 429s, and the full cycle at that rate.
   Targets: >= 95 % of the quota, 0 × 429.
2. With ``--tenants`` > 1, a store app whose accounts are spread evenly over that many
   customer tenants: for each worker concurrency of ``--tenant-concurrency`` (every account
   never pulled again, a fresh worker), ``--tenant-minutes`` ticks. Prints the calls per
   second in all after the first tick (which hands out ``BALANCE_PULLS_PER_TICK``; the next
   ones follow the workers' pace), each tenant's most calls in any 1 s and 60 s window
   against its quota, the 429s, accounts pulled twice, and the full cycle extrapolated at
   that rate against the single tenant's bound. Targets: no tenant over its quota, 0 × 429,
   nothing pulled twice, and more calls per second than one tenant's quota allows, growing
   with the worker's concurrency (the workers bound it, not the quota).
"""

import argparse
import sys
import time
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import busiest_window, redis_missing, sandbox_stack  # noqa: E402

QUOTA = 10.0
ASSETS = "/open-apis/hire/v1/referral_account/get_account_assets"
FIRST_ID = 7_400_000_000_000_000_000
STORE_FIRST_ID = FIRST_ID + 10_000_000  # the store app's accounts, beside the self-built one's


def _seed_accounts(n: int, first_id: int, tenants: list[str]) -> None:
    """``n`` accounts, never pulled, spread in turn over ``tenants`` (as the sandbox seeds them)."""
    from django.db import connection

    from referrals.models import ReferralAccount

    table = ReferralAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
        cursor.execute(
            f"""
            INSERT INTO {table} (tenant_key, name, mobile_code, mobile_number, email, account_id, status,
                error, attempts, pending_action, action_error, points, balance_error, created_at, updated_at,
                employee_id)
            SELECT (%s::text[])[1 + mod(i, %s)], 'Bench ' || i, '', '', 'bench' || i || '@bench.example',
                (%s::bigint + i)::text, 'active', '', 1, '', '', 0, '', now(), now(), ''
            FROM generate_series(0, %s - 1) AS i
            """,  # noqa: S608
            [tenants, len(tenants), first_id, n],
        )
        cursor.execute(f"ANALYZE {table}")


def _ticks(minutes: int) -> None:
    """What beat does: the schedule's tick every minute."""
    from referrals.tasks import pull_balances

    for _ in range(minutes):
        pull_balances.delay()
        time.sleep(60)


def single_tenant(stack, args) -> float:
    """The peer: one tenant's 10/s. Returns the calls per second."""
    from django.utils import timezone

    from referrals.models import ReferralAccount

    control = stack.control
    started = time.monotonic()
    control.seed_accounts(args.accounts, FIRST_ID, points=5)
    _seed_accounts(args.accounts, FIRST_ID, [""])
    took = time.monotonic() - started
    print(f"seeded          {args.accounts} accounts of one tenant (sandbox and database) in {took:.0f} s")
    control.clear_requests()

    stack.start_worker(args.concurrency)
    began = timezone.now()
    _ticks(args.minutes)
    time.sleep(5)
    stack.stop_worker()

    log = control.requests(ASSETS)
    answered = [r for r in log if r["status"] == 200]
    met_429 = sum(1 for r in log if r["status"] == 429)
    times = sorted(r["time"] for r in answered)
    # The steady window: from the first call to the last (the first tick starts it).
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    rate = (len(answered) - 1) / span if span else 0.0
    confirmed = ReferralAccount.objects.filter(balance_synced_at__gte=began).count()
    cycle_h = args.accounts / rate / 3600 if rate else float("inf")
    print(f"worker          celery --pool=threads --concurrency={args.concurrency}, {args.minutes} ticks")
    print(f"calls           {len(answered)} answered 200 over {span:.0f} s")
    print(f"rate            {rate:.2f}/s = {100 * rate / QUOTA:.1f} % of the quota ({QUOTA:.0f}/s)")
    print(f"429 met         {met_429}")
    print(f"confirmed       {confirmed} balances")
    print(f"full cycle      {cycle_h:.1f} h for {args.accounts} accounts at this rate")
    passed = rate >= 0.95 * QUOTA and met_429 == 0
    print("RESULT          " + ("PASS" if passed else "FAIL"))
    return rate if passed else 0.0


def _store_app(stack, keys: list[str]) -> None:
    """The store app installed by every tenant, its app_ticket delivered (as the webhook would)."""
    import os

    from django.conf import settings

    from hireops.feishu import save_app_ticket
    from hireops.tenants.models import Tenant

    os.environ["FEISHU_APP_TYPE"] = settings.FEISHU_APP_TYPE = "store"  # this process and the worker
    for key in keys:
        stack.control.install_tenant(key)
    Tenant.objects.all().delete()
    Tenant.objects.bulk_create([Tenant(tenant_key=key) for key in keys])
    save_app_ticket(settings.FEISHU_APP_ID, stack.control.push_app_ticket()["event"]["app_ticket"])


def _tick_claim_time() -> float:
    """Seconds one tick's claim takes over every tenant (then given back)."""
    from referrals.accounts.pulls import claim_due
    from referrals.models import ReferralAccount

    started = time.monotonic()
    claimed = claim_due()
    took = time.monotonic() - started
    ReferralAccount.objects.filter(pk__in=claimed).update(pull_claimed_until=None)
    return took


def many_tenants(stack, args, single_rate: float) -> bool:
    from django.conf import settings

    from config.celery import app as celery_app
    from referrals.models import ReferralAccount

    control = stack.control
    keys = [f"pull-tenant-{i:04d}" for i in range(args.tenants)]
    started = time.monotonic()
    _store_app(stack, keys)
    control.seed_accounts(args.accounts, STORE_FIRST_ID, points=5, tenants=keys)
    _seed_accounts(args.accounts, STORE_FIRST_ID, keys)
    took = time.monotonic() - started
    each = args.accounts // args.tenants
    print()
    print(
        f"seeded          {args.accounts} accounts over {args.tenants} tenants ({each} each) in {took:.0f} s"
    )
    print(
        f"one tick        claims {settings.BALANCE_PULLS_PER_TICK} accounts over every tenant"
        f" in {_tick_claim_time() * 1000:.0f} ms"
    )
    single_bound = args.accounts / QUOTA / 3600
    passed, rates = True, []
    for concurrency in args.tenant_concurrency:
        celery_app.control.purge()  # the batches the last worker left
        ReferralAccount.objects.update(balance_synced_at=None, pull_claimed_until=None)
        control.clear_requests()
        stack.start_worker(concurrency)
        t0 = time.time()
        _ticks(args.tenant_minutes)
        stack.stop_worker()  # what it had not pulled yet is left
        # The rate over the ticks after the first: the first hands out BALANCE_PULLS_PER_TICK,
        # the next ones twice what the workers pulled in the minute before (referrals.accounts.pulls).
        start, window = t0 + 60, (args.tenant_minutes - 1) * 60

        log = control.requests(ASSETS)
        answered = [r for r in log if r["status"] == 200]
        met_429 = sum(1 for r in log if r["status"] == 429)
        per_tenant = defaultdict(list)
        for r in answered:
            per_tenant[r["tenant_key"]].append(r["time"])
        worst_s = max((busiest_window(sorted(t), 1) for t in per_tenant.values()), default=0)
        worst_m = max((busiest_window(sorted(t), 60) for t in per_tenant.values()), default=0)
        twice = len(answered) - len({r["query"]["referral_account_id"] for r in answered})
        steady = sum(1 for r in answered if start <= r["time"] < start + window)
        rate = steady / window
        rates.append(rate)
        cycle_h = args.accounts / rate / 3600 if rate else float("inf")
        print(
            f"worker          celery --pool=threads --concurrency={concurrency}, {args.tenant_minutes} ticks"
        )
        print(f"calls           {len(answered)} answered 200, {len(per_tenant)} tenants called")
        print(
            f"rate            {rate:.1f}/s in all = {rate / QUOTA:.1f} × one tenant's quota"
            f" ({steady} calls in the {window} s after the first tick)"
        )
        print(
            f"per tenant      most {worst_s} calls in any 1 s (quota {QUOTA:.0f}),"
            f" {worst_m} in any 60 s (quota {QUOTA * 60:.0f})"
        )
        print(f"429 met         {met_429}")
        print(f"pulled twice    {twice}")
        print(
            f"full cycle      {cycle_h * 60:.0f} min for {args.accounts} accounts at this rate;"
            f" one tenant's quota: {single_bound:.1f} h ({single_bound / cycle_h:.0f}× longer)"
        )
        passed &= worst_s <= QUOTA and worst_m <= QUOTA * 60 and met_429 == 0 and twice == 0
        passed &= rate > QUOTA
    grows = all(b > a for a, b in pairwise(rates))
    if len(rates) > 1:
        print(f"worker-bound    {' → '.join(f'{r:.1f}' for r in rates)} calls/s as threads are added")
        passed &= grows
    if single_rate:
        print(f"against one     {rates[-1] / single_rate:.1f}× the single tenant's {single_rate:.2f}/s")
    print("RESULT          " + ("PASS" if passed else "FAIL"))
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--minutes", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--tenant-minutes", type=int, default=3)
    parser.add_argument("--tenant-concurrency", type=lambda s: [int(n) for n in s.split(",")], default=[4, 8])
    args = parser.parse_args()
    if redis_missing():
        return 2
    with sandbox_stack("pull", control_timeout=300, LOG_LEVEL="WARNING") as stack:
        single_rate = single_tenant(stack, args) if args.minutes else 0.0
        passed = bool(single_rate) or not args.minutes
        if args.tenants > 1:
            passed &= many_tenants(stack, args, single_rate)
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
