"""Benchmark: an approved payout run of 20,000 accounts, paid within Feishu's withdrawal quota.

    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/payout_run.py [--accounts 20000]
        [--tenants 200] [--pool prefork] [--concurrency 4]

A store app's referral accounts spread over ``--tenants`` customer tenants: seeded in the Feishu
sandbox (a subprocess), each holding 10.00 CNY, and in a PostgreSQL database (DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/hireops_payout_bench, created and migrated here).
Then as production runs it: one HR member prepares the run of every account with cash, a
colleague approves it, and a real ``celery worker`` on the Redis broker pays it, as the image
runs one by default (prefork, 4 processes; ``--pool``, ``--concurrency``), fed by the
dispatcher (sent every minute, as beat does, and topping the workers up in between). While it runs,
the run's progress and the time left are printed as the run's page shows them.

Feishu allows 100 withdrawals a minute per app and tenant (docs/feishu.md §4, §7.5; a
"10/s" sometimes quoted is not Feishu's documented figure), so one tenant's 20,000 accounts
take at least 3.4 h whatever the code does; over many tenants the run is bounded by the
workers. Checked: 0 × 429, no tenant over 100 withdrawals in any 60 s window, every line paid,
and Feishu's books (the sandbox's state) show every account withdrawn exactly once.
"""

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import busiest_window, redis_missing, sandbox_stack  # noqa: E402

FIRST_ID = 7_500_000_000_000_000_000
AMOUNT = "10.00"
QUOTA_PER_MINUTE = 100


def _seed_database(n: int, tenants: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE referrals_referralaccount, referrals_payoutrun CASCADE")
        cursor.execute(
            """
            INSERT INTO referrals_referralaccount (tenant_key, name, mobile_code, mobile_number, email,
                account_id, status, error, attempts, pending_action, action_error, points, balance_error,
                created_at, updated_at, employee_id, balance_synced_at)
            SELECT (%s::text[])[1 + mod(i, %s)], 'Bench ' || i, '', '', 'bench' || i || '@bench.example',
                (%s::bigint + i)::text, 'active', '', 1, '', '', 0, '', now(), now(), '', now()
            FROM generate_series(0, %s - 1) AS i
            """,
            [tenants, len(tenants), FIRST_ID, n],
        )
        cursor.execute(
            """
            INSERT INTO referrals_accountcash (account_id, currency, amount)
            SELECT id, 'CNY', %s FROM referrals_referralaccount
            """,
            [AMOUNT],
        )
        cursor.execute("ANALYZE referrals_referralaccount")
        cursor.execute("ANALYZE referrals_accountcash")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--pool", choices=["prefork", "threads"], default="prefork")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if redis_missing():
        return 2
    with sandbox_stack("payout", control_timeout=300, FEISHU_APP_TYPE="store", LOG_LEVEL="WARNING") as stack:
        from django.conf import settings
        from django.contrib.auth import get_user_model

        from hireops.core.auth import roles
        from hireops.core.auth.roles import sync_roles
        from hireops.core.models import CallStatus
        from hireops.feishu import save_app_ticket
        from hireops.tenants.models import Tenant
        from referrals.models import PayoutRun, PayoutRunStatus, Withdrawal
        from referrals.payouts import services as payouts
        from referrals.tasks import payout_dispatch

        control = stack.control
        keys = [f"pay-tenant-{i:04d}" for i in range(args.tenants)]
        for key in keys:
            control.install_tenant(key)
        Tenant.objects.all().delete()
        Tenant.objects.bulk_create([Tenant(tenant_key=key) for key in keys])
        started = time.monotonic()
        control.seed_accounts(args.accounts, FIRST_ID, cash={"CNY": AMOUNT}, tenants=keys)
        _seed_database(args.accounts, keys)
        print(
            f"seeded          {args.accounts} accounts over {args.tenants} tenants"
            f" in {time.monotonic() - started:.0f} s"
        )
        save_app_ticket(settings.FEISHU_APP_ID, control.push_app_ticket()["event"]["app_ticket"])

        sync_roles()
        users = get_user_model().objects
        users.filter(username__in=["bench-preparer", "bench-approver"]).delete()
        preparer = users.create_user("bench-preparer", is_staff=True)
        approver = users.create_user("bench-approver", is_staff=True)
        from django.contrib.auth.models import Group

        preparer.groups.add(Group.objects.get(name=roles.HR))
        approver.groups.add(*Group.objects.filter(name__in=[roles.HR, roles.HR_PAYOUT_APPROVALS]))
        # Their roles move money: nothing until each has a second factor (docs/second-factor.md).
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        for user in (preparer, approver):
            TOTP.activate(user, generate_totp_secret())

        from config.celery import app as celery_app

        celery_app.control.purge()  # a killed earlier run's tasks name lines that are gone now
        stack.start_worker(args.concurrency, args.pool)
        time.sleep(3)  # the worker connects to the broker
        started = time.monotonic()
        run = payouts.payout_prepare(preparer, title="bench")  # a worker writes the lines
        asked = time.monotonic() - started
        while PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.PREPARING:
            time.sleep(0.2)
        run.refresh_from_db()
        print(
            f"prepared        {run.line_count} lines, {payouts.cash_text(run.totals)}"
            f" in {time.monotonic() - started:.1f} s (the request: {asked:.2f} s)"
        )
        control.clear_requests()
        started = last_tick = time.monotonic()
        payouts.payout_approve(run.pk, approver)  # queues the dispatcher's first tick
        shown = 0.0
        while PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.PAYING:
            now = time.monotonic()
            if now - last_tick >= 60:  # what beat sends every minute
                payout_dispatch.delay()
                last_tick = now
            if now - shown >= 10:
                run.refresh_from_db()
                p = payouts.run_progress(run)
                # The run page's estimate: the quota's bound, or the last minute's pace if slower.
                left = f"about {p.minutes_left} min left" if p.minutes_left else "finishing"
                print(f"  {now - started:6.0f} s  {p.percent:3d} %  {p.paid} paid, {p.to_pay} to pay, {left}")
                shown = now
            if now - started > 3600:
                print("gave up after 3600 s")
                return 1
            time.sleep(1)
        wall = time.monotonic() - started

        log = [r for r in control.requests() if r["path"].endswith("/withdraw")]
        met_429 = sum(1 for r in control.requests() if r["status"] == 429)
        per_tenant = defaultdict(list)
        for r in log:  # an account's tenant follows from its id (seeded in turn over the tenants)
            if r["status"] == 200:
                account_id = int(r["path"].rsplit("/", 2)[-2])
                per_tenant[(account_id - FIRST_ID) % args.tenants].append(r["time"])
        worst = max((busiest_window(sorted(t), 60) for t in per_tenant.values()), default=0)
        lines = run.lines.values_list("status", flat=True)
        paid = sum(1 for s in lines if s == CallStatus.SUCCEEDED)
        books = control.state()["accounts"]
        once = sum(1 for a in books if len(a["withdrawals"]) == 1)
        twice = sum(1 for a in books if len(a["withdrawals"]) > 1)
        mirrored = Withdrawal.objects.filter(status=CallStatus.SUCCEEDED).count()
        print(f"worker          celery --pool={args.pool} --concurrency={args.concurrency}")
        print(f"wall time       {wall:.0f} s from approval to the run finished ({paid / wall:.1f} lines/s)")
        print(f"withdrawals     {len(log)} calls, {paid} lines paid, {mirrored} withdrawals recorded")
        print(
            f"quota           busiest tenant: {worst} withdrawals in a 60 s window (quota {QUOTA_PER_MINUTE})"
        )
        print(f"429 met         {met_429}")
        print(f"Feishu's books  {once} accounts withdrawn once, {twice} more than once")
        single = args.accounts * 60 / (QUOTA_PER_MINUTE * 0.97) / 3600
        print(
            f"one tenant      {args.accounts} accounts of one tenant would take {single:.1f} h"
            " at 97 % of its quota"
        )
        passed = (
            paid == args.accounts == once
            and twice == 0
            and met_429 == 0
            and worst <= QUOTA_PER_MINUTE
            and mirrored == args.accounts
        )
        print("RESULT          " + ("PASS" if passed else "FAIL"))
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
