"""Benchmark: preparing a payout run of 200,000 accounts, in the background, with progress.

    REDIS_URL=redis://127.0.0.1:6379/7 CELERY_BROKER_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/payout_prepare.py [--accounts 200000] [--tenants 200]

Referral accounts with 10.00 CNY each are seeded in a PostgreSQL database (DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/hireops_prepare_bench, created and migrated here).
An HR member prepares a run of every account with cash as the admin's form does: the request
only counts the accounts and records the run (*being prepared*); a real ``celery worker``
(threads pool, as the Procfile runs it) writes the lines batch by batch. Printed: the request's
time, the progress the run's page shows every few seconds, the time until the run waits for
approval, and a check that every account has exactly one line and the totals add up.
"""

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.payout_run import AMOUNT, _seed_database  # noqa: E402
from bench.support import redis_missing, sandbox_stack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if redis_missing():
        return 2
    with sandbox_stack("prepare", control_timeout=60, FEISHU_APP_TYPE="store", LOG_LEVEL="WARNING") as stack:
        from django.contrib.auth import get_user_model
        from django.db.models import Count

        from referrals.models import PayoutLine, PayoutRun, PayoutRunStatus
        from referrals.payouts import services as payouts

        keys = [f"prep-tenant-{i:04d}" for i in range(args.tenants)]
        started = time.monotonic()
        _seed_database(args.accounts, keys)
        print(
            f"seeded          {args.accounts} accounts over {args.tenants} tenants"
            f" in {time.monotonic() - started:.0f} s"
        )
        users = get_user_model().objects
        users.filter(username="bench-preparer").delete()
        preparer = users.create_user("bench-preparer", is_staff=True)
        stack.start_worker(args.concurrency)
        time.sleep(3)  # the worker connects to the broker

        started = time.monotonic()
        run = payouts.payout_prepare(preparer, title="bench")
        asked = time.monotonic() - started
        print(f"request         {asked * 1000:.0f} ms: run #{run.pk} {run.get_status_display()}")
        shown = 0.0
        while (run := PayoutRun.objects.get(pk=run.pk)).status == PayoutRunStatus.PREPARING:
            now = time.monotonic()
            if now - shown >= 5:
                percent = 100 * run.line_count // max(run.expected_lines or args.accounts, 1)
                print(
                    f"  {now - started:6.1f} s  {percent:3d} %"
                    f"  {run.line_count} of {run.expected_lines} lines"
                )
                shown = now
            if now - started > 1800:
                print("gave up after 1800 s")
                return 1
            time.sleep(0.5)
        wall = time.monotonic() - started
        twice = (
            PayoutLine.objects.filter(run=run)
            .values("account")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        total = Decimal(run.totals.get("CNY", "0"))
        print(
            f"prepared        {run.line_count} lines, {payouts.cash_text(run.totals)}"
            f" in {wall:.1f} s ({run.line_count / wall:.0f} lines/s)"
        )
        passed = (
            run.status == PayoutRunStatus.AWAITING_APPROVAL
            and run.line_count == args.accounts
            and twice == 0
            and total == Decimal(AMOUNT) * args.accounts
        )
        print("RESULT          " + ("PASS" if passed else "FAIL"))
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
