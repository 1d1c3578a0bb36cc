"""Benchmark: events over the long connection, our listener beside the official SDK's client.

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/longconn.py [--seconds 5] \
        [--rates 500,1000,1500,2000,3000] [--clients sdk,listener]
    ... bench/longconn.py --in-flight 16,64 [--events 20000] [--rounds 3]   # closed loop

The clients in turn, at each offered rate, against the same Feishu sandbox (its own process):

- ``sdk``: the official ``lark_oapi.ws.Client`` from the installed package, unmodified, with a
  handler that does nothing (``bench/sdk_ws_client.py``, its own process): it acknowledges each
  event as soon as it has parsed it, storing nothing;
- ``sdk_store``: the same client whose handler commits each event to PostgreSQL before it
  returns (``bench/sdk_ws_client.py --store``: a psycopg insert into a table of its own keyed by
  the event id, in autocommit), what a team on the SDK must write to lose nothing;
- ``listener``: ``manage.py feishu_listen`` (the production path), storing every event through
  the inbox writer into PostgreSQL and queuing it on the Redis broker, acknowledging each only
  after its commit.

The sandbox waits Feishu's 3 s for each acknowledgement and counts anything else as a missed
delivery. Each event is a distinct schema 1.0 ``app_ticket``, as in ``bench/webhook.py``; the
sandbox is reset before each client connects, so each measurement starts from the same state.

For each offered rate (open loop: a burst every 100 ms, whatever the acks do) and client it
reports the rate acknowledged (first deliveries acknowledged 200 / time from the first push to
the last ack), for the listener also the rate stored (rows committed / time from the first push
to the last row), the acks' latency (p50 / p99, from the sandbox sending the event to the ack)
and the missed deliveries (no ack in 3 s, or not 200: Feishu would resend those), then the
ratio listener / SDK of the rates acknowledged. Each client's sustainable rate is the highest
offered rate it follows (acknowledged ≥ 95 % of offered) with no missed delivery.

Closed loop (``--in-flight N[,M…]``): the sandbox keeps at most N events awaiting their
acknowledgement on the connection (its ``max_in_flight``), as a connection with a bounded
window does, and ``--events`` are queued at once: the rate is then set by the time from an
event's push to its ack, not by what the client could take. Every client at every depth is
measured once a round, depths and clients interleaved, for ``--rounds``; per depth it prints
each client's median and spread (lowest–highest) and the listener's ratio to each SDK client
(the ratio of the medians, and each round's). The goals (``TARGETS``) are against the client
that stores: at least 1.0× its rate with 16 events awaiting their ack, 1.5× with 64, where
committing many events at once should pay; the SDK's no-op client is a figure beside them.
The closed loop measures all three clients unless ``--clients`` says otherwise.

Before each measurement the inbox table holds exactly ``--inbox-rows`` rows (default 0; a year of
a large customer is about 1,000,000), vacuumed, after a checkpoint (``bench/inbox_state.py``):
the rows earlier runs stored made each run slower than the one before.

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
from bench import inbox_state
from bench.support import ROOT, free_port, redis_missing, sandbox_stack

CLIENTS = ("sdk", "sdk_store", "listener")
OPEN_LOOP_CLIENTS = "sdk,listener"
# The listener's rate over the storing SDK client's, at these many events awaiting their ack.
TARGETS = {16: 1.0, 64: 1.5}
SETTLE = 4.0  # seconds after the last push by which every first delivery is decided (3 s ack deadline)


def start_listener() -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            *os.environ.get("BENCH_LISTENER_PREFIX", "").split(),
            "manage.py",
            "feishu_listen",
            "--health-bind",
            f"127.0.0.1:{free_port()}",
        ],
        cwd=ROOT,
        env=dict(os.environ, LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
    )


def start_sdk(store: bool = False) -> subprocess.Popen:
    from django.conf import settings

    env = {
        **os.environ,
        "APP_ID": settings.FEISHU_APP_ID,
        "APP_SECRET": settings.FEISHU_APP_SECRET,
        "DOMAIN": os.environ["FEISHU_BASE_URL"],
    }
    script = [sys.executable, str(ROOT / "bench" / "sdk_ws_client.py"), *(["--store"] if store else [])]
    return subprocess.Popen(script, cwd=ROOT, env=env)


def start(client: str) -> subprocess.Popen:
    if client == "listener":
        return start_listener()
    return start_sdk(store=client == "sdk_store")


def stop(proc: subprocess.Popen, client: str) -> None:
    # The SDK has no clean stop (its loop runs for good); the listener stops on SIGTERM.
    proc.send_signal(signal.SIGTERM if client == "listener" else signal.SIGKILL)
    proc.wait(30)


def empty_sdk_table() -> None:
    """The storing SDK client's table, created if absent and emptied: each of its measurements
    starts from the same state."""
    from django.db import connection

    from bench.sdk_ws_client import STORE_TABLE_SQL

    with connection.cursor() as cursor:
        cursor.execute(STORE_TABLE_SQL)
        cursor.execute("TRUNCATE bench_sdk_event")


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what}: not within {timeout:.0f} s")


def offer(control, rate: int, seconds: float) -> tuple[list[str], float, float]:
    """Push ``rate`` events/s for ``seconds`` in 100 ms bursts; the ids, the start (time.time())
    and how long the offer took."""
    ids, wall, started = [], time.time(), time.monotonic()
    per_tick, ticks = max(1, rate // 10), int(seconds * 10)
    for tick in range(ticks):
        ids += control.push_app_tickets(per_tick)
        pause = started + (tick + 1) / 10 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return ids, wall, time.monotonic() - started


def offer_all(control, count: int) -> tuple[list[str], float, float]:
    """Queue ``count`` events at once (closed loop: the sandbox's window paces them)."""
    ids, wall, started = [], time.time(), time.monotonic()
    while len(ids) < count:
        ids += control.push_app_tickets(min(1000, count - len(ids)))
    return ids, wall, time.monotonic() - started


def acks_so_far(control) -> int:
    return sum(c["acked"] for c in control.longconn_connections())


def wait_for_acks(control, target: int) -> None:
    """Until the connection's counters show ``target`` acks, or none came for SETTLE (what is
    missing is then decided: missed). Cheap, unlike reading the deliveries' log, which costs
    the sandbox (and so the client measured) more the longer the log grows."""
    last, since = -1, time.monotonic()
    while (acked := acks_so_far(control)) < target:
        if acked != last:
            last, since = acked, time.monotonic()
        elif time.monotonic() - since > SETTLE:
            return
        time.sleep(0.2)


def first_deliveries(control, ids: list[str], settle: float = SETTLE) -> list[dict]:
    """The first attempt of each event, once every one is decided (acknowledged or missed)."""
    wanted, found = set(ids), []

    def decided() -> bool:
        found[:] = [d for d in control.deliveries() if d["event_id"] in wanted and d["attempt"] == 1]
        return len(found) >= len(wanted)

    time.sleep(settle)
    wait(decided, 60, "every first delivery decided")
    return found


def stored_rate(ids: list[str], wall: float) -> float:
    """Rows committed / time from the first push to the last row's arrival."""
    from django.db.models import Max

    from hireops.events.models import FeishuEvent

    rows = FeishuEvent.objects.filter(event_id__in=ids)
    wait(lambda: rows.count() >= len(ids), 60, "every event stored")
    last = rows.aggregate(last=Max("received_at"))["last"].timestamp()
    return len(ids) / (last - wall)


def sdk_stored_rate(ids: list[str], wall: float) -> float:
    """The same for the storing SDK client's table (its rows' ``received_at`` is the time of
    its insert)."""
    from django.db import connection

    def counted() -> tuple[int, float]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), extract(epoch FROM max(received_at)) FROM bench_sdk_event "
                "WHERE event_id = ANY(%s)",
                [ids],
            )
            return cursor.fetchone()

    wait(lambda: counted()[0] >= len(ids), 60, "every event stored")
    return len(ids) / (float(counted()[1]) - wall)


def stored(client: str, ids: list[str], wall: float) -> float | None:
    """The rate the client stored at (None: the no-op client stores nothing)."""
    if client == "listener":
        return stored_rate(ids, wall)
    return sdk_stored_rate(ids, wall) if client == "sdk_store" else None


def measure(control, client: str, rate: int, seconds: float, closed: int = 0) -> dict:
    if closed:
        before = acks_so_far(control)
        ids, wall, offered_for = offer_all(control, closed)
        wait_for_acks(control, before + len(ids))
        first = first_deliveries(control, ids, settle=0)
    else:
        ids, wall, offered_for = offer(control, rate, seconds)
        first = first_deliveries(control, ids)
    acked = [d for d in first if d["status"] == 200]
    latencies = sorted(d["ack_seconds"] for d in acked)
    last_ack = max((d["time"] + d["ack_seconds"] for d in acked), default=wall + offered_for)
    return {
        "client": client,
        "rate": rate,
        "events": len(ids),
        "offered": len(ids) / offered_for,
        "acked": len(acked) / max(last_ack - wall, offered_for),
        "stored": stored(client, ids, wall),
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else float("nan"),
        "missed": len(ids) - len(acked),
    }


def run_client(
    control, client: str, rate: int, seconds: float, in_flight: int = 0, events: int = 0, inbox_rows: int = 0
) -> dict:
    """A fresh sandbox, the inbox as each measurement starts, the client connected and warmed
    up, then one measurement (open loop at ``rate``, or closed: ``events`` with at most
    ``in_flight`` awaiting their acks)."""
    inbox_state.prepare(inbox_rows, out=lambda line: None)
    empty_sdk_table()
    control.reset()
    control.configure(delivery="long_connection", max_in_flight=in_flight or None)
    proc = start(client)
    try:
        # lark_oapi's import alone takes 6 s of CPU, several times that on a loaded machine.
        wait(lambda: len(control.longconn_connections()) == 1, 120, f"the {client} connected")
        measure(control, client, 200, 1)  # warm-up: connections, caches, the writer's pace
        return measure(control, client, rate, seconds, closed=events if in_flight else 0)
    finally:
        stop(proc, client)


def show(r: dict) -> str:
    stored = f"{r['stored']:>9,.0f}" if r["stored"] is not None else f"{'-':>9}"
    return (
        f"{r['offered']:>10,.0f} {r['client']:>9} {r['events']:>7,} {r['acked']:>8,.0f} {stored} "
        f"{r['p50']:>7.1f}ms {r['p99']:>7.1f}ms {r['missed']:>7,}"
    )


def sustainable(results: list[dict], client: str) -> dict | None:
    """The highest offered rate the client followed with no missed delivery."""
    kept = [
        r for r in results if r["client"] == client and not r["missed"] and r["acked"] >= 0.95 * r["offered"]
    ]
    return max(kept, key=lambda r: r["offered"], default=None)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def closed_summary(results: list[dict], clients: list[str]) -> int:
    """Per depth: each client's median rate (lowest–highest) and ack p50 over the rounds, and
    the listener's ratio to each SDK client, against ``TARGETS``."""
    met = True
    for depth in sorted({r["depth"] for r in results}):
        at = [r for r in results if r["depth"] == depth]
        print(f"\n{depth} awaiting their ack, {len(at) // len(clients)} rounds:")
        acked = {c: [r["acked"] for r in at if r["client"] == c] for c in clients}
        for c in clients:
            p50 = statistics.median(r["p50"] for r in at if r["client"] == c)
            print(f"  {c:>9}: {spread(acked[c])} events/s acknowledged, ack p50 {p50:.1f} ms")
        if "listener" not in clients:
            continue
        for peer in ("sdk_store", "sdk"):
            if peer not in clients:
                continue
            ratio = statistics.median(acked["listener"]) / statistics.median(acked[peer])
            rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(acked["listener"], acked[peer], strict=True))
            target = TARGETS.get(depth) if peer == "sdk_store" else None
            verdict = (
                f" (target ≥ {target:.1f}×: {'met' if ratio >= target else 'not met'})" if target else ""
            )
            print(f"  listener / {peer}: {ratio:.2f}× the medians; each round {rounds}{verdict}")
            met = met and (target is None or ratio >= target)
    missed = sum(r["missed"] for r in results)
    return 0 if met and not missed else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="500,1000,1500,2000,3000")
    parser.add_argument(
        "--clients",
        default="",
        help=f"of {', '.join(CLIENTS)}: default {OPEN_LOOP_CLIENTS} (open loop), all of them (closed)",
    )
    parser.add_argument(
        "--in-flight", default="", help="closed loop: at most N awaiting their ack (N,M: each depth in turn)"
    )
    parser.add_argument("--events", type=int, default=20000, help="closed loop: events per measurement")
    parser.add_argument(
        "--rounds", type=int, default=3, help="closed loop: measurements per client and depth"
    )
    parser.add_argument(
        "--inbox-rows", type=int, default=0, help="rows in the inbox as each measurement starts (1M: a year)"
    )
    args = parser.parse_args()
    if redis_missing():
        return 2
    depths = [int(d) for d in args.in_flight.split(",") if d.strip()]
    chosen = (args.clients or (",".join(CLIENTS) if depths else OPEN_LOOP_CLIENTS)).split(",")
    clients = [c for c in CLIENTS if c in chosen]
    # Each round measures every depth and client once; the clients' order turns each round, so
    # none is always measured right after the same neighbour.
    steps = (
        [
            (0, d, clients[i % len(clients) :] + clients[: i % len(clients)])
            for i in range(args.rounds)
            for d in depths
        ]
        if depths
        else [(int(r), 0, clients) for r in args.rates.split(",")]
    )
    results = []
    with sandbox_stack(
        "longconn", control_timeout=60, FEISHU_EVENT_TRANSPORT="long_connection", LOG_LEVEL="WARNING"
    ) as stack:
        from importlib.metadata import version

        print(
            f"lark-oapi {version('lark-oapi')} ws.Client (no-op handler; committing each event: sdk_store) "
            f"vs feishu_listen → PostgreSQL ({os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}), "
            f"broker {os.environ['REDIS_URL']}; "
            + (
                f"closed loop: {args.events:,} events, at most {args.in_flight} awaiting their ack"
                if depths
                else f"{args.seconds:g} s per rate"
            )
        )
        print(f"inbox: {args.inbox_rows:,} rows as each measurement starts")
        print(
            f"{'offered/s':>10} {'client':>9} {'events':>7} {'acked/s':>8} {'stored/s':>9} "
            f"{'ack p50':>9} {'ack p99':>9} {'missed':>7} {'depth':>6}"
        )
        for rate, depth, order in steps:
            for c in order:
                r = run_client(stack.control, c, rate, args.seconds, depth, args.events, args.inbox_rows)
                r["depth"] = depth
                results.append(r)
                print(show(r), f"{depth or '-':>6}", flush=True)
    if depths:
        return closed_summary(results, clients)
    for rate in sorted({r["rate"] for r in results}):
        row = {r["client"]: r for r in results if r["rate"] == rate}
        if "listener" in row and "sdk" in row:
            print(f"{rate:,}/s offered: listener / sdk {row['listener']['acked'] / row['sdk']['acked']:.2f}×")
    for client in clients:
        best = sustainable(results, client)
        said = (
            f"{best['acked']:,.0f} events/s acknowledged (offered {best['offered']:,.0f})" if best else "none"
        )
        print(f"{client}: highest rate followed with no missed delivery: {said}")
    return 0 if all(sustainable(results, c) for c in clients) else 1


if __name__ == "__main__":
    sys.exit(main())
