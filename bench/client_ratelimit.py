"""Benchmark: 4 worker processes call one sandbox endpoint as fast as the client allows.

    .venv/bin/python bench/client_ratelimit.py [--seconds 60] [--workers 4]

Starts the Feishu sandbox in a subprocess, registers one referral account, then every
worker loops on ``get_account_assets`` (quota 10/s per app and tenant) through the
real client: shared token, shared limiter (Redis when REDIS_URL is set, lock files
otherwise). Prints calls/s as a fraction of the quota, the 429s the sandbox answered
(met by the client) and the 429s that reached a caller (surfaced). Targets: >= 95 %
of the quota, 0 surfaced.
"""

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import free_port, start_sandbox, wait_for_sandbox  # noqa: E402

QUOTA_PER_SECOND = 10
ENDPOINT_PATH = "/open-apis/hire/v1/referral_account/get_account_assets"


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("FEISHU_SANDBOX", "1")  # the emulator stands in for Feishu
    import django

    django.setup()


def worker(account_id: str, deadline: float, results) -> None:
    _django()
    from hireops.feishu import get_client, hire
    from hireops.feishu.errors import FeishuError, FeishuRateLimited

    client = get_client()
    ok = surfaced = other = 0
    while time.time() < deadline:
        try:
            hire.get_account_assets(client, account_id)
            ok += 1
        except FeishuRateLimited:
            surfaced += 1
        except FeishuError:
            other += 1
    results.put((ok, surfaced, other))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    port = free_port()
    os.environ["FEISHU_BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ.setdefault("HIREOPS_VAR_DIR", tempfile.mkdtemp(prefix="hireops-bench-"))
    sandbox = start_sandbox(port)
    try:
        _django()
        from hireops.feishu import get_client, hire
        from sandbox.control import SandboxControl

        control = SandboxControl(os.environ["FEISHU_BASE_URL"])
        wait_for_sandbox(control)
        control.add_employee(name="Bench 压测", email="bench@example.com")
        account = hire.create_referral_account(get_client(), email="bench@example.com")
        control.clear_requests()

        ctx = mp.get_context("spawn")
        results = ctx.Queue()
        start = time.time()
        deadline = start + args.seconds
        procs = [
            ctx.Process(target=worker, args=(account.account_id, deadline, results))
            for _ in range(args.workers)
        ]
        for p in procs:
            p.start()
        totals = [results.get() for _ in procs]
        for p in procs:
            p.join()

        log = [r for r in control.requests(ENDPOINT_PATH)]
        answered = [r for r in log if r["status"] == 200]
        met_429 = sum(1 for r in log if r["status"] == 429)
        # Rate over the window the calls actually spanned (workers start a little late).
        times = sorted(r["time"] for r in answered)
        span = (times[-1] - times[0]) if len(times) > 1 else args.seconds
        rate = (len(answered) - 1) / span if span else 0.0
        ok = sum(t[0] for t in totals)
        surfaced = sum(t[1] for t in totals)
        other = sum(t[2] for t in totals)
        print(f"endpoint        get_account_assets (quota {QUOTA_PER_SECOND}/s)")
        print(f"workers         {args.workers} processes, {span:.1f} s of calls")
        print(f"calls ok        {ok}  (sandbox answered 200: {len(answered)})")
        print(f"rate            {rate:.2f}/s = {100 * rate / QUOTA_PER_SECOND:.1f} % of quota")
        print(f"429 met         {met_429}")
        print(f"429 surfaced    {surfaced}")
        print(f"other errors    {other}")
        passed = rate >= 0.95 * QUOTA_PER_SECOND and surfaced == 0 and other == 0
        print("RESULT          " + ("PASS" if passed else "FAIL"))
        return 0 if passed else 1
    finally:
        sandbox.terminate()
        sandbox.wait(10)


if __name__ == "__main__":
    sys.exit(main())
