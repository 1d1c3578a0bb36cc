"""Benchmark: 10,000 events to three partners' endpoints while Feishu's webhook ingest is busy.

    REDIS_URL=redis://127.0.0.1:6379/4 CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/webhooks.py [--events 10000] [--priority idle] [--diagnose]

Three receivers on this machine, each recording every ``webhook-id`` it verified:

- **fast** answers 200 at once;
- **slow** answers 200 after 2 s;
- **flaky** answers 500 for its first minute, then 200.

The events are written as the apps write them (an outbox row and three deliveries each, in
batches of 500 per transaction); a real ``celery worker -Q webhooks --pool threads`` delivers
them (with ``WORKER_CPU_IDLE=1``, as docs/deployment.md advises on a host it shares with the
ingest server: deliveries wait, Feishu's pushes must not; ``--priority`` compares), and this
script sends what is due every 10 s as beat's ``webhooks.send_due`` would. Meanwhile the ingest
server (``config.ingest``, 2 workers) takes signed, encrypted deliveries from wrk.

The ingest's throughput is measured in windows of ``--ingest-seconds``, alternating while the
worker delivers and while it is paused (SIGSTOP: nothing delivered, every state kept), so the
machine's drift from one minute to the next cancels out; also once before the events and once
after the last delivery, for reference.

Reported: the time until every delivery succeeded (each endpoint's own), events received more
than once (allowed: at least once; counted), events lost (must be 0), and the ingest's
throughput while delivering against paused (target: at least 90 %). ``--diagnose`` prints where
the machine's CPU went in each window (the ingest, the worker, PostgreSQL for each, wrk).

Needs PostgreSQL (DATABASE_URL, default hireops_bench), Redis, and ``wrk``.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import webhook as ingest_bench  # noqa: E402
from cpu_shares import CpuShares  # noqa: E402

SLOW_SECONDS = 2.0
FLAKY_SECONDS = 60.0


class Partner:
    def __init__(self, name: str, secret: str = ""):
        self.name, self.secret = name, secret
        self.seen: set[str] = set()
        self.repeats = 0
        self.requests = 0
        self.started_at: float | None = None
        self.last_new_at = 0.0
        self.lock = threading.Lock()

    def answer(self) -> int:
        now = time.monotonic()
        with self.lock:
            self.started_at = self.started_at or now
        if self.name == "slow":
            time.sleep(SLOW_SECONDS)
        if self.name == "flaky" and now - self.started_at < FLAKY_SECONDS:
            return 500
        return 200

    def received(self, msg_id: str) -> None:
        with self.lock:
            self.requests += 1
            if msg_id in self.seen:
                self.repeats += 1
            else:
                self.seen.add(msg_id)
                self.last_new_at = time.monotonic()


def serve(partner: Partner) -> str:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as sandbox/handler.py: no 40 ms per kept-alive answer

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = partner.answer()
            if status == 200:
                verify(partner, dict(self.headers.items()), body)
                partner.received(self.headers["webhook-id"])
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256

    def run():
        # The partners' servers stand for other machines: at the lowest priority (their request
        # threads inherit it), so this one's cores go to hireops, as they would in production.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        server.serve_forever()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hooks"


def verify(partner: Partner, headers: dict, body: bytes) -> None:
    from hireops.webhooks import signing

    lower = {k.lower(): v for k, v in headers.items()}
    expected = signing.signature(partner.secret, lower["webhook-id"], int(lower["webhook-timestamp"]), body)
    if expected not in lower["webhook-signature"].split():
        raise SystemExit(f"{partner.name}: a delivery not signed with its secret")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=64, help="the webhooks worker's threads")
    parser.add_argument("--per-endpoint", type=int, default=48, help="WEBHOOK_ENDPOINT_CONCURRENCY")
    parser.add_argument("--ingest-seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3, help="windows delivering / paused, alternating")
    parser.add_argument(
        "--priority",
        choices=("idle", "nice", "normal"),
        default="idle",
        help="the webhooks worker's: WORKER_CPU_IDLE=1 (production's), nice 19, or neither",
    )
    parser.add_argument(
        "--diagnose", action="store_true", help="where the CPU went in each ingest window, by role"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    if not (os.environ.get("CELERY_BROKER_URL") or "").startswith("redis://"):
        raise SystemExit("set CELERY_BROKER_URL=redis://… (and REDIS_URL): a real broker for the worker")

    tmp = Path(tempfile.mkdtemp(prefix="hireops-bench-webhooks-"))
    env = ingest_bench.bench_env(tmp)
    env.update(
        WEBHOOK_ALLOW_PRIVATE_URLS="1",  # the receivers are on this machine
        WEBHOOK_ENDPOINT_CONCURRENCY=str(args.per_endpoint),
        PGAPPNAME="ingest",  # libpq's: names each process's backends for --diagnose
    )
    os.environ.update(env, PGAPPNAME="bench")
    import django

    django.setup()
    from django.db import transaction

    from hireops.core.models import CallStatus
    from hireops.webhooks import delivery, endpoints, events
    from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    WebhookEvent.objects.all().delete()
    WebhookEndpoint.objects.all().delete()
    subprocess.run(["redis-cli", "-u", env["CELERY_BROKER_URL"], "del", "webhooks"], capture_output=True)
    partners = [Partner(name) for name in ("fast", "slow", "flaky")]
    rows = []
    for partner in partners:
        made, partner.secret = endpoints.create(url=serve(partner), description=partner.name, scopes=[])
        rows.append(made)
    bench_type = events.declare(
        events.EventType(
            "bench.happened",
            "a benchmark's event",
            scope=None,
            render=lambda i, personal, whole: {
                "id": i,
                "note": "x" * 800,
                "updated_at": "2026-11-25T00:00:00Z",
            },
        )
    )

    server = ["config.ingest", "--worker-class", "hireops.events.ingest_worker.IngestWorker", "-w", "2"]
    with open(tmp / "worker.log", "w") as worker_log, ingest_bench.serve(server, env) as (port, ingest_pid):
        roles = {"ingest": ingest_pid, "bench (receivers, beat)": os.getpid()}

        def measure(title: str) -> float:
            shares = CpuShares(roles, env["DATABASE_URL"])
            shares.start()
            started = time.monotonic()
            rate = ingest_bench.throughput(port, args.ingest_seconds, env, tmp, echo=False)
            if args.diagnose:
                print(f"{title}:\n{shares.report(time.monotonic() - started)}")
            return rate

        alone = measure("alone")
        print(f"ingest alone          {alone:,.0f} events/s stored and acknowledged")

        priority = ["nice", "-n", "19"] if args.priority == "nice" else []
        worker = subprocess.Popen(
            [
                *priority,
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "webhooks",
                "--pool",
                "threads",
                "--concurrency",
                str(args.threads),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=dict(env, PGAPPNAME="webhooks worker", WORKER_CPU_IDLE=str(int(args.priority == "idle"))),
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        roles["webhooks worker"] = worker.pid
        started = time.monotonic()
        for first in range(0, args.events, 500):
            with transaction.atomic():
                for i in range(first, min(first + 500, args.events)):
                    events.record(bench_type, i, rows)
        written = time.monotonic() - started
        print(
            f"written               {args.events:,} events, {3 * args.events:,} deliveries in {written:.1f} s"
        )

        stop = threading.Event()

        def beat():
            while not stop.wait(10):
                delivery.send_due()

        threading.Thread(target=beat, daemon=True).start()
        # While delivering against the worker paused (SIGSTOP: nothing delivered, its state
        # kept), in alternating windows: the machine's drift from minute to minute cancels out.
        busy, paused = [], []
        for _ in range(args.rounds):
            busy.append(measure("while delivering"))
            worker.send_signal(signal.SIGSTOP)
            paused.append(measure("worker paused"))
            worker.send_signal(signal.SIGCONT)
        share = sum(busy) / sum(paused)
        print(
            "ingest while delivering "
            + ", ".join(f"{b:,.0f}" for b in busy)
            + " events/s; worker paused "
            + ", ".join(f"{p:,.0f}" for p in paused)
            + f": {share:.0%} (target >= 90 %)"
        )

        deadline = started + 3600
        while time.monotonic() < deadline:
            left = WebhookDelivery.objects.exclude(status=CallStatus.SUCCEEDED).count()
            if not left:
                break
            time.sleep(5)
        total = time.monotonic() - started
        stop.set()
        worker.terminate()
        worker.wait(30)
        after = measure("alone again")
        print(f"ingest alone again    {after:,.0f} events/s, deliveries done")
    failed = WebhookDelivery.objects.filter(status=CallStatus.FAILED).count()
    wanted = {e.webhook_id for e in WebhookEvent.objects.only("uid")}
    print(f"all delivered after   {total:.0f} s ({failed} failed deliveries)")
    lost = 0
    for partner in partners:
        missing = len(wanted - partner.seen)
        lost += missing
        took = partner.last_new_at - started
        print(
            f"  {partner.name:<6} {len(partner.seen):,} events in {took:.0f} s, "
            f"{partner.requests:,} answered 200, {partner.repeats} received twice, {missing} missing"
        )
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if lost == 0 and not failed and share >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
