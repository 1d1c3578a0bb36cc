"""Benchmark: events over the long connection, acknowledged after their commit.

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/longconn.py [--seconds 10] [--rates 500,1000]

The production path: ``manage.py feishu_listen`` in its own process, holding a WebSocket to
the Feishu sandbox (its own process too), storing every event through the inbox writer into
PostgreSQL and queuing it on the Redis broker; the sandbox waits Feishu's 3 s for each
acknowledgement and counts anything else as a failed delivery. Each event is a distinct
schema 1.0 ``app_ticket``, as in ``bench/webhook.py``.

For each offered rate (open loop: a burst every 100 ms, whatever the acks do) it reports the
rate stored (rows committed / time from the first push to the last row), the acks' latency
(p50 / p99, from the sandbox sending the event to the listener's ack, which comes only after
the commit) and the deliveries that failed (no ack in 3 s, or not 200): Feishu would resend
those. The highest rate with no failed delivery is the figure for the README.

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hireops_longconn_bench)
and REDIS_URL (broker and coordination, as production runs).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import ROOT, free_port, redis_missing, sandbox_stack


def start_listener(health_port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            *os.environ.get("BENCH_LISTENER_PREFIX", "").split(),
            "manage.py",
            "feishu_listen",
            "--health-bind",
            f"127.0.0.1:{health_port}",
        ],
        cwd=ROOT,
        env=dict(os.environ, LOG_LEVEL="WARNING"),
    )


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what}: not within {timeout:.0f} s")


def offer(control, rate: int, seconds: float) -> tuple[list[str], float]:
    """Push ``rate`` events/s for ``seconds`` in 100 ms bursts; the ids and the start time."""
    ids, started = [], time.monotonic()
    per_tick, ticks = max(1, rate // 10), int(seconds * 10)
    for tick in range(ticks):
        ids += control.push_app_tickets(per_tick)
        pause = started + (tick + 1) / 10 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return ids, started


def measure(control, rate: int, seconds: float) -> dict:
    from hireops.events.models import FeishuEvent

    before = FeishuEvent.objects.count()
    ids, started = offer(control, rate, seconds)
    offered_for = time.monotonic() - started
    wait(lambda: FeishuEvent.objects.count() - before >= len(ids), 60, "every event stored")
    stored_for = time.monotonic() - started
    wanted = set(ids)
    first = [d for d in control.deliveries() if d["event_id"] in wanted and d["attempt"] == 1]
    latencies = sorted(d["ack_seconds"] for d in first if d.get("ack_seconds") is not None)
    failed = sum(d["status"] != 200 for d in first)
    return {
        "rate": rate,
        "events": len(ids),
        "offered": len(ids) / offered_for,
        "stored": len(ids) / stored_for,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else float("nan"),
        "failed": failed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", default="500,1000,2000,3000")
    args = parser.parse_args()
    if redis_missing():
        return 2
    rates = [int(r) for r in args.rates.split(",")]
    with sandbox_stack(
        "longconn", control_timeout=60, FEISHU_EVENT_TRANSPORT="long_connection", LOG_LEVEL="WARNING"
    ) as stack:
        control = stack.control
        control.configure(delivery="long_connection")
        listener = start_listener(free_port())
        try:
            wait(lambda: len(control.longconn_connections()) == 1, 30, "the listener connected")
            measure(control, 200, 1)  # warm-up: connections, caches, the writer's pace
            print(
                f"feishu_listen → PostgreSQL ({os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}), "
                f"broker {os.environ['REDIS_URL']}"
            )
            print(
                f"{'offered/s':>10} {'events':>7} {'stored/s':>9} {'ack p50':>8} {'ack p99':>8} {'failed':>7}"
            )
            results = []
            for rate in rates:
                r = measure(control, rate, args.seconds)
                results.append(r)
                print(
                    f"{r['offered']:>10,.0f} {r['events']:>7,} {r['stored']:>9,.0f} "
                    f"{r['p50']:>6.1f}ms {r['p99']:>6.1f}ms {r['failed']:>7,}"
                )
        finally:
            listener.send_signal(signal.SIGTERM)
            listener.wait(30)
    clean = [r for r in results if r["failed"] == 0]
    if clean:
        best = max(clean, key=lambda r: r["stored"])
        print(f"best without a failed delivery: {best['stored']:,.0f} events/s stored and acknowledged")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
