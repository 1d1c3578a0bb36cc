"""Benchmark: the webhook under load, served by gunicorn with PostgreSQL.

    .venv/bin/python bench/webhook.py [--seconds 20] [--workers 2] [--rate 200] [--wsgi] [--diagnose-disk]

By default it serves ``config.ingest`` with its worker class (``IngestWorker``: uvicorn's
protocol under gunicorn's arbiter), the production server for Feishu's pushes; ``--wsgi``
serves ``config.wsgi`` (the Django view) with sync workers instead, for comparison.

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hireops_bench,
created and migrated here) and the ``wrk`` load generator (Debian package ``wrk``).
Every request is a distinct schema 1.0 ``app_ticket`` delivery, signed and AES-encrypted
as Feishu does; the app answers 200 only once its row is committed, and queues it for
processing on the broker (Redis when REDIS_URL is set), many events per message. With
a Redis broker the run also checks that every stored event was queued. Two phases,
load generator on the same machine:

1. Throughput: wrk with 32 connections for ``--seconds``; accepted/s = rows committed / time.
2. Latency: a steady ``--rate`` events/s from a paced Python client for ``--seconds``;
   p50 / p99 of the time to the 200.

Targets (2 cores): >= 1,500 events/s stored; p99 < 25 ms at 200 events/s.
"""

import argparse
import contextlib
import functools
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hireops.feishu import crypto  # noqa: E402

KEY, TOKEN = "bench-encrypt-key", "bench-verification-token"
PATH = "/feishu/events/"
# Distinct deliveries written for each second of a wrk run: more than any server here answers,
# so none repeats (4,000 and 5,000 were not, on a faster machine: wrk started its file again).
# A run that sends as many stops with the reason.
MAX_RATE = 15_000

LUA = r"""
local reqs, i = {}, 0
function init(args)
  local n = tonumber(args[2]); local k = tonumber(args[3])
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % n == k then
      local ts, nonce, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
      reqs[#reqs + 1] = wrk.format("POST", "PATH", {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["X-Lark-Request-Timestamp"] = ts, ["X-Lark-Request-Nonce"] = nonce,
        ["X-Lark-Signature"] = sig}, body)
    end
    line_no = line_no + 1
  end
end
function request()
  i = i + 1
  return reqs[((i - 1) % #reqs) + 1]
end
""".replace("PATH", PATH)

THREAD_SETUP = r"""
local counter = 0
function setup(thread)
  thread:set("id", counter); counter = counter + 1
end
"""


# The events a delivery can carry (``delivery(events=...)``): Feishu's own samples of the two
# hire events (tests/events/feishu_samples/), or a store app's app_ticket (schema 1.0).
SAMPLES = ROOT / "tests" / "events" / "feishu_samples"
ECO_ACCOUNT, ASSETS = "hire.eco_account.created_v1", "hire.referral_account.assets_update_v1"
EVENT_MIXES = {
    "app_ticket": ("app_ticket",),
    "eco_account": (ECO_ACCOUNT,),
    "assets": (ASSETS,),
    "mix": (ECO_ACCOUNT, ASSETS),  # half and half, alternating
}


@functools.cache
def _sample(event_type: str) -> str:
    return (SAMPLES / f"{event_type}.json").read_text(encoding="utf-8")


def _payload(i: int, event_id: str, event_type: str) -> dict:
    if event_type == "app_ticket":
        return {
            "ts": str(int(time.time())),
            "uuid": event_id,
            "token": TOKEN,
            "type": "event_callback",
            "event": {"app_id": "cli_bench", "app_ticket": f"ticket-{i}", "type": "app_ticket"},
        }
    payload = json.loads(_sample(event_type))
    payload["header"].update(event_id=event_id, token=TOKEN, create_time=str(int(time.time() * 1000)))
    return payload


def delivery(i: int, event_id: str | None = None, events: str = "app_ticket") -> tuple[str, str, str, bytes]:
    """Headers (timestamp, nonce, signature) and body of the ``i``-th signed, encrypted
    delivery of a run whose events are ``events`` (a key of ``EVENT_MIXES``)."""
    kinds = EVENT_MIXES[events]
    payload = _payload(i, event_id or f"bench-{uuid.uuid4().hex}", kinds[i % len(kinds)])
    body = json.dumps({"encrypt": crypto.encrypt(json.dumps(payload), KEY)}).encode()
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    return ts, nonce, crypto.sign(ts, nonce, KEY, body), body


def bench_env(tmp: Path, log_level: str = "WARNING") -> dict:
    """The servers' environment: the bench's keys, a var dir under ``tmp``, the log level, and
    the PostgreSQL database of DATABASE_URL (default hireops_bench), created if missing and
    migrated."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        FEISHU_ENCRYPT_KEY=KEY,
        FEISHU_VERIFICATION_TOKEN=TOKEN,
        HIREOPS_VAR_DIR=str(tmp),
        LOG_LEVEL=log_level,
    )
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hireops_bench")
    if not env["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("the benchmark measures PostgreSQL: set DATABASE_URL=postgres://...")
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", env["DATABASE_URL"].rsplit("/", 1)[1]],
        capture_output=True,
    )
    run([sys.executable, "manage.py", "migrate", "-v", "0"], env)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def count_rows(env) -> int:
    out = run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from hireops.events.models import FeishuEvent; print(FeishuEvent.objects.count())",
        ],
        env,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip().splitlines()[-1])


def queued_events(env) -> int | None:
    """Event keys waiting in the Redis broker's ``events`` queue, where settings route
    ``events.process_events`` (None for other brokers)."""
    url = env.get("CELERY_BROKER_URL") or env.get("REDIS_URL") or ""
    if not url.startswith("redis://"):
        return None
    import base64

    import redis

    total = 0
    for raw in redis.Redis.from_url(url).lrange("events", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "events.process_events":
            args = json.loads(base64.b64decode(message["body"]))[0]
            total += len(args[0])
    return total


def fsync_probe(env, rate=200.0, seconds=10.0) -> str:
    """The database disk's own fsync latency at the steady rate: every commit waits for
    one, so its tail is the floor under the webhook's. Needs the data directory writable."""
    out = subprocess.run(
        ["psql", env["DATABASE_URL"], "-Atc", "SHOW data_directory"], capture_output=True, text=True
    )
    folder = out.stdout.strip()
    if out.returncode or not folder:
        return "not measured (data directory not readable)"
    try:
        fd, path = tempfile.mkstemp(dir=folder, prefix="hireops-fsync-probe-")
    except OSError:
        return f"not measured ({folder} not writable)"
    lat, page = [], b"x" * 8192
    try:
        due = time.perf_counter()
        for i in range(int(rate * seconds)):
            due += 1 / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            t0 = time.perf_counter()
            os.pwrite(fd, page, (i % 64) * 8192)
            os.fdatasync(fd)
            lat.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    stalled = sum(x for x in lat if x > 0.025) / seconds
    return (
        f"p50 {lat[len(lat) // 2] * 1000:.1f} ms, p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.1f} ms, "
        f"max {lat[-1] * 1000:.0f} ms; stalled over 25 ms for {stalled:.1%} of the time"
    )


def wait_up(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def throughput(port, seconds, env, tmp, connections: int = 32, echo: bool = True) -> float:
    n = int(seconds * MAX_RATE)
    reqs = tmp / "requests.tsv"
    with open(reqs, "w") as f:
        for i in range(n):
            ts, nonce, sig, body = delivery(i)
            f.write(f"{ts}\t{nonce}\t{sig}\t{body.decode()}\n")
    script = tmp / "bench.lua"
    threads = 2
    script.write_text(THREAD_SETUP + LUA.replace("tonumber(args[3])", "id"))
    before = count_rows(env)
    start = time.time()
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{int(seconds)}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            str(reqs),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    elapsed = time.time() - start
    stored = count_rows(env) - before
    if echo:
        print(out)
    sent = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if sent >= n:
        raise SystemExit(f"wrk sent {sent:,} requests, the file holds {n:,} distinct events: write more")
    return stored / elapsed


def steady(port, rate, seconds) -> list[float]:
    bodies = [delivery(i) for i in range(int(rate * seconds))]
    latencies, lock = [], threading.Lock()
    conns = 16
    interval = 1.0 / rate
    start = time.perf_counter() + 0.2

    def sender(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(k, len(bodies), conns):
            due = start + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            ts, nonce, sig, body = bodies[i]
            t0 = time.perf_counter()
            conn.request(
                "POST",
                PATH,
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-Lark-Request-Timestamp": ts,
                    "X-Lark-Request-Nonce": nonce,
                    "X-Lark-Signature": sig,
                },
            )
            resp = conn.getresponse()
            resp.read()
            elapsed = time.perf_counter() - t0
            if resp.status != 200:
                raise SystemExit(f"unexpected {resp.status}")
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--wsgi", action="store_true", help="serve config.wsgi (Django) with sync workers")
    parser.add_argument(
        "--diagnose-disk",
        action="store_true",
        help="rerun the steady phase with synchronous_commit=off, to show what the disk adds",
    )
    args = parser.parse_args()
    app, worker_class = (
        ("config.wsgi", "sync")
        if args.wsgi
        else ("config.ingest", "hireops.events.ingest_worker.IngestWorker")
    )
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")

    tmp = Path(tempfile.mkdtemp(prefix="hireops-bench-"))
    env = bench_env(tmp)

    server = [app, "--worker-class", worker_class, "-w", str(args.workers)]
    with serve(server, env) as (port, _):
        print(
            f"gunicorn {app}: {args.workers} {worker_class} workers; "
            f"database {env['DATABASE_URL'].rsplit('@', 1)[-1]}; "
            f"broker {env.get('CELERY_BROKER_URL') or env.get('REDIS_URL') or 'filesystem'}"
        )
        queued_before, stored_before = queued_events(env), count_rows(env)
        rate = throughput(port, args.seconds, env, tmp)
        p50, p99, n = percentiles(steady(port, args.rate, args.seconds))
        time.sleep(1)  # the publishers' last batches
        queued_after, stored = queued_events(env), count_rows(env) - stored_before
    print(f"throughput      {rate:,.0f} events/s stored and acknowledged (target >= 1,500)")
    print(f"steady {args.rate:.0f}/s     p50 {p50:.1f} ms, p99 {p99:.1f} ms over {n} (target p99 < 25 ms)")
    all_queued = True
    if queued_after is not None:
        queued = queued_after - queued_before
        all_queued = queued == stored
        print(f"queued          {queued:,} of {stored:,} stored events are on the broker")
    print(f"disk fsync      {fsync_probe(env, args.rate, args.seconds)}")
    print("                (the database disk alone at the same rate: a request that arrives while")
    print("                the disk stalls waits for its commit, so that share cannot be faster)")
    if args.diagnose_disk:
        with serve(server, env, synchronous_commit="off") as (port, _):
            p50_d, p99_d, n = percentiles(steady(port, args.rate, args.seconds))
        print(
            f"without fsync   p50 {p50_d:.1f} ms, p99 {p99_d:.1f} ms over {n} events "
            "(diagnostic only: synchronous_commit=off, never how hireops runs)"
        )
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if rate >= 1500 and p99 < 25 and all_queued else 1


def percentiles(latencies: list[float]) -> tuple[float, float, int]:
    lat = sorted(latencies)
    return statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000, len(lat)


@contextlib.contextmanager
def serve(server: list[str], env: dict, stderr=None, **database_settings):
    """Run gunicorn with ``server`` arguments; yields its port and its master's pid (the
    workers are its children). ``database_settings`` (e.g. synchronous_commit="off") are set
    on the benchmark database while it runs: diagnostics, or a slower database."""
    db = env["DATABASE_URL"].rsplit("/", 1)[1]
    for name, value in database_settings.items():
        run(["psql", env["DATABASE_URL"], "-qc", f"ALTER DATABASE {db} SET {name} = {value}"], env)
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *server, "-b", f"127.0.0.1:{port}"]
    gunicorn = subprocess.Popen(
        [*cmd, "--log-level", "warning", "--no-control-socket"], cwd=ROOT, env=env, stderr=stderr
    )
    try:
        wait_up(port)
        yield port, gunicorn.pid
    finally:
        gunicorn.terminate()
        gunicorn.wait(10)
        for name in database_settings:
            run(["psql", env["DATABASE_URL"], "-qc", f"ALTER DATABASE {db} RESET {name}"], env)


if __name__ == "__main__":
    sys.exit(main())
