"""Benchmark: the scheduled balance pull at production size (200,000 referral accounts).

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/balance_pull.py [--accounts 200000]
        [--minutes 3] [--concurrency 4]

Seeds the Feishu sandbox (a subprocess) with ``--accounts`` referral accounts and a PostgreSQL
database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hireops_pull_bench,
created and migrated here) with the same accounts, never pulled. Then, as production runs
it: a real ``celery worker`` (threads pool, ``--concurrency``) on the Redis broker, and the
schedule's tick (``referrals.pull_balances``, what beat sends every minute) sent every
minute for ``--minutes``. The client's rate limiter is shared through Redis.

Prints the sandbox's ``get_account_assets`` calls per second over the steady window against
its quota (10/s per app and tenant), the 429s Feishu answered, the accounts confirmed, and
how long a full cycle over every account takes at that rate.
Targets: >= 95 % of the quota, 0 × 429.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import redis_missing, sandbox_stack  # noqa: E402

QUOTA = 10.0
ASSETS = "/open-apis/hire/v1/referral_account/get_account_assets"
FIRST_ID = 7_400_000_000_000_000_000


def _seed_accounts(n: int) -> None:
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
            SELECT '', 'Bench ' || i, '', '', 'bench' || i || '@bench.example', ({FIRST_ID} + i)::text,
                'active', '', 1, '', '', 0, '', now(), now(), ''
            FROM generate_series(0, %s - 1) AS i
            """,  # noqa: S608
            [n],
        )
        cursor.execute(f"ANALYZE {table}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--minutes", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if redis_missing():
        return 2
    with sandbox_stack("pull", control_timeout=120) as stack:
        from django.utils import timezone

        from referrals.models import ReferralAccount
        from referrals.tasks import pull_balances

        control = stack.control
        started = time.monotonic()
        control.seed_accounts(args.accounts, FIRST_ID, points=5)
        _seed_accounts(args.accounts)
        took = time.monotonic() - started
        print(f"seeded          {args.accounts} accounts (sandbox and database) in {took:.0f} s")
        control.clear_requests()

        stack.start_worker(args.concurrency)
        began = timezone.now()
        for _ in range(args.minutes):
            pull_balances.delay()  # what beat sends every minute
            time.sleep(60)
        time.sleep(5)

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
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
