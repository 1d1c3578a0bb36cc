"""Benchmark: the webhook offered 3× what it can store, open loop, with Feishu's retries.

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/overload.py [--seconds 60] [--factor 3]
        [--workers 1] [--commit-delay 100] [--retries 15,60,120,240] [--rate N] [--timeline]

Serves ``config.ingest`` with its worker class on PostgreSQL, as bench/webhook.py does
(same database, keys, deliveries and wrk phase). Load generator on the same machine:

1. Sustainable rate: bench/webhook.py's throughput phase on this same server (wrk, closed
   loop, 512 connections: enough to fill the writer's batches): events/s committed.
   ``--rate`` skips it.
2. Overload: ``--factor`` × that rate for ``--seconds``, open loop (each delivery sent at its
   due time whatever the answers), every one a distinct event, signed and encrypted. wrk
   paces per connection (closed loop) and Debian has no wrk2, so the generator is
   ``--senders`` Python processes (asyncio, pre-built requests, as many keep-alive connections
   as the answers in flight need, run at a higher priority than the server so that the load
   is offered on time); how late each send was is measured. Like Feishu, a delivery not
   answered 200 within 3 s is sent again after each delay of ``--retries`` until a 200 or
   the schedule ends. Feishu's is 15 s, 5 min, 1 h, 6 h; the default keeps the 15 s and
   compresses the others to 1, 2 and 4 min, so that, like Feishu's, the later waves come
   after the burst. (With 1,3,10,30 the last retry is sent about 45 s after the first try:
   what 3× for 60 s leaves cannot all be stored by then, so events are lost by arithmetic.)

This 2-core machine cannot offer 3× the uncapped rate with the generator on it: the
generator falls seconds behind and the server's CPU, not its commits, becomes the limit
(``--commit-delay 0 --workers 2``). So by default the server is capped the way a slow
database caps it, and runs one worker: PostgreSQL's commit_delay (``--commit-delay`` ms,
commit_siblings = 0) on the benchmark database makes every commit wait, so the inbox
writer's commits, not the CPU, set the sustainable rate (about 400 events/s), and 3× of
it can be offered on time. The output says so.

Then it reads events_feishuevent and checks: (a) every event answered 200 has exactly one
row; (b) every event offered has a row after the retries (else the ids, with what each
attempt got); (c) the gunicorn workers' RSS, sampled every second, stops growing while the
refused events pile up; (d) the answers (200, the writer's fast 503 with Retry-After, the
503 after 2 s, no answer in 3 s) with their latencies, and the rate stored meanwhile.

Targets: (a) and (b) hold (exit status 1 otherwise); the 503 refusals p99 < 20 ms (the
refusal is decided before the body is verified or decrypted); RSS flat.
"""

import argparse
import asyncio
import contextlib
import heapq
import itertools
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import Counter, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.webhook import PATH, bench_env, delivery, serve, throughput  # noqa: E402

FEISHU_TIMEOUT = 3.0  # Feishu gives up on an answer after 3 s
REFUSAL_TARGET = 0.02  # s, p99: decided before any decryption
# Answers that are not HTTP statuses, and the 503 that is not the writer's fast refusal.
TIMEOUT, RESET, NO_CONNECTION, SLOW_503 = 0, -1, -2, 5030
ANSWER = {
    200: "200 stored",
    503: "503 overloaded (Retry-After)",
    SLOW_503: "503 not committed in 2 s",
    TIMEOUT: "no answer in 3 s",
    RESET: "connection reset",
    NO_CONNECTION: "could not connect",
}
FIELDS = 6  # per attempt: event number, attempt (0 = first), due, sent, answered (s from start), answer


# --- the generator: one process per sender ------------------------------------------------


class Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight at a time."""

    def __init__(self, sender):
        self.sender, self.transport, self.buf = sender, None, bytearray()
        self.job = self.timer = None
        self.gone = False

    def connection_made(self, transport):
        self.transport = transport

    def send(self, job):
        self.job = job
        job[3] = self.sender.loop.time()
        self.timer = self.sender.loop.call_later(FEISHU_TIMEOUT, self.timed_out)
        self.transport.write(self.sender.requests[job[0]])

    def data_received(self, data):
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if self.job is None or end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"content-length:")
        length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
        if len(self.buf) < end + 4 + length:
            return
        status = int(self.buf[9:12])
        if status == 503 and b"retry-after:" not in head:
            status = SLOW_503
        del self.buf[: end + 4 + length]
        job, self.job = self.job, None
        self.timer.cancel()
        self.sender.answered(job, status)
        if b"connection: close" in head:
            self.transport.close()
        else:
            self.sender.release(self)

    def timed_out(self):
        job, self.job = self.job, None
        self.transport.abort()
        self.sender.answered(job, TIMEOUT)

    def connection_lost(self, exc):
        if self.gone:
            return
        self.gone = True
        self.sender.open -= 1
        if self.job is not None:
            self.timer.cancel()
            job, self.job = self.job, None
            self.sender.answered(job, RESET)


class Sender:
    """Sends each event at its due time, and each one not answered 200 again after the delays."""

    def __init__(self, port, requests, retries, max_connections):
        self.loop = asyncio.get_running_loop()
        self.port, self.requests = port, requests
        self.retries, self.max_connections = retries, max_connections
        # Round robin, so that each connection is used before the server's 2 s keep-alive closes it.
        self.idle: deque[Connection] = deque()
        self.waiting: deque = deque()  # due while every allowed connection was busy
        self.retry_heap: list = []
        self.open = self.in_flight = self.connects = self.most_open = 0
        self.connecting: set[asyncio.Task] = set()
        self.records = array("d")

    async def new_connection(self) -> Connection:
        _, conn = await self.loop.create_connection(lambda: Connection(self), "127.0.0.1", self.port)
        return conn

    async def warm_up(self, n: int) -> None:
        """Open ``n`` connections before the start, 50 at a time: a connection burst past the
        listening socket's backlog waits for SYN retries."""

        async def one():
            with contextlib.suppress(OSError):
                conn = await self.new_connection()
                self.open += 1
                self.idle.append(conn)

        for _ in range(0, n, 50):
            await asyncio.gather(*(one() for _ in range(50)))
        self.most_open = self.open

    def dispatch(self, job):
        self.in_flight += 1
        while self.idle and not self.waiting:
            conn = self.idle.popleft()
            if not conn.gone:
                conn.send(job)
                return
        if self.open < self.max_connections and not self.waiting:
            self.open += 1
            self.connects += 1
            self.most_open = max(self.most_open, self.open)
            task = asyncio.ensure_future(self.connect_and_send(job))
            self.connecting.add(task)
            task.add_done_callback(self.connecting.discard)
        else:
            self.waiting.append(job)

    async def connect_and_send(self, job):
        try:
            conn = await self.new_connection()
        except OSError:
            self.open -= 1
            job[3] = self.loop.time()
            self.answered(job, NO_CONNECTION)
            return
        conn.send(job)

    def release(self, conn):
        if self.waiting:
            conn.send(self.waiting.popleft())
        else:
            self.idle.append(conn)

    def answered(self, job, status):
        self.in_flight -= 1
        now = self.loop.time()
        self.records.extend((job[0], job[1], job[2], job[3], now, status))
        if status != 200 and job[1] < len(self.retries):
            heapq.heappush(self.retry_heap, (now + self.retries[job[1]], job[0], job[1] + 1))

    async def run(self, first_due: list[float]):
        j, n = 0, len(self.requests)
        while j < n or self.retry_heap or self.in_flight:
            now = self.loop.time()
            while j < n and first_due[j] <= now:
                self.dispatch([j, 0, first_due[j], 0.0])
                j += 1
            while self.retry_heap and self.retry_heap[0][0] <= now:
                due, i, attempt = heapq.heappop(self.retry_heap)
                self.dispatch([i, attempt, due, 0.0])
            await asyncio.sleep(0.001)
        for conn in self.idle:
            conn.transport.close()


def request(j: int, event_id: str) -> bytes:
    ts, nonce, sig, body = delivery(j, event_id)
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"X-Lark-Request-Timestamp: {ts}\r\nX-Lark-Request-Nonce: {nonce}\r\n"
        f"X-Lark-Signature: {sig}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def sender_process(k: int, plan: dict, ready, start, out) -> None:
    """Build this sender's share of the deliveries (event j for j % senders == k), wait for the
    common start, send; put the attempts (times from the start) and figures on ``out``."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with contextlib.suppress(PermissionError):  # below 0 needs root; the figures show lateness
        os.setpriority(os.PRIO_PROCESS, 0, plan["nice"])
    mine = range(k, plan["events"], plan["senders"])
    requests = [request(j, f"{plan['prefix']}{j:07d}") for j in mine]

    async def main():
        loop = asyncio.get_running_loop()
        sender = Sender(plan["port"], requests, plan["retries"], plan["max_connections"])
        await sender.warm_up(plan["warm"])
        ready.put(k)
        start_at = await loop.run_in_executor(None, start.get)  # time.time() of the first due send
        base = loop.time() + (start_at - time.time())
        await asyncio.sleep(max(0.0, base - loop.time()))
        await sender.run([base + j / plan["rate"] for j in mine])
        records = sender.records
        for x in range(0, len(records), FIELDS):  # this sender's numbering → the run's; times from start
            records[x] = mine[int(records[x])]
            for f in (2, 3, 4):
                records[x + f] -= base
        return records, {"connections opened": sender.connects, "most open": sender.most_open}

    records, figures = asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["cpu"] = usage.ru_utime + usage.ru_stime
    out.put((records.tobytes(), figures))


def offer(port: int, rate: float, args) -> tuple[dict, list[tuple], Counter, float]:
    """Run the senders. Returns the plan (its ``prefix`` and number of ``events``), every
    attempt as (event, attempt, due, sent, answered, answer), the senders' figures, and the
    time.time() of the start."""
    plan = {
        "prefix": f"ovl-{uuid.uuid4().hex[:8]}-",
        "events": int(rate * args.seconds),
        "senders": args.senders,
        "rate": rate,
        "port": port,
        "retries": [float(x) for x in args.retries.split(",") if x.strip()],
        "max_connections": args.max_connections,
        "warm": min(args.max_connections, int(rate / args.senders / 2)),
        "nice": args.nice,
    }
    ctx = mp.get_context("fork")
    ready, start, out = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=sender_process, args=(k, plan, ready, start, out)) for k in range(args.senders)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    start_at = time.time() + 0.3
    for _ in procs:
        start.put(start_at)
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    attempts, figures = [], Counter()
    for raw, sender_figures in results:
        flat = array("d")
        flat.frombytes(raw)
        attempts += [tuple(flat[x : x + FIELDS]) for x in range(0, len(flat), FIELDS)]
        figures.update(sender_figures)
    return plan, attempts, figures, start_at


# --- the server's memory and CPU ----------------------------------------------------------


class Sampler(threading.Thread):
    """Every second: VmRSS (kB) and CPU ticks of each gunicorn worker, and the machine's
    busy and total ticks."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master, self.samples, self.stopped = master, [], threading.Event()

    def workers(self) -> dict[int, tuple[int, int]]:
        with contextlib.suppress(OSError):
            pids = Path(f"/proc/{self.master}/task/{self.master}/children").read_text().split()
            return {int(pid): r for pid in pids if (r := self.read(int(pid)))}
        return {}

    @staticmethod
    def read(pid: int) -> tuple[int, int] | None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return rss, int(stat[11]) + int(stat[12])  # utime + stime

    def run(self):
        while not self.stopped.is_set():
            cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            self.samples.append((time.time(), self.workers(), sum(cpu) - cpu[3] - cpu[4], sum(cpu)))
            self.stopped.wait(1.0)

    def stop(self):
        self.stopped.set()
        self.join()


# --- the checks ---------------------------------------------------------------------------


def stored_rows(database_url: str, prefix: str) -> tuple[dict[str, float], int]:
    """event_id → received_at (epoch seconds) of this run's rows, and how many event ids
    have more than one row (the unique constraint says none can)."""
    import psycopg

    like = [prefix + "%"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT event_id, extract(epoch FROM received_at)::float8 FROM events_feishuevent "
            "WHERE event_id LIKE %s",
            like,
        ).fetchall()
        repeated = conn.execute(
            "SELECT count(*) FROM (SELECT event_id FROM events_feishuevent WHERE event_id LIKE %s "
            "GROUP BY event_id HAVING count(*) > 1) AS r",
            like,
        ).fetchone()[0]
    return dict(rows), repeated


def ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    values = sorted(values)
    return f"{values[min(len(values) - 1, int(len(values) * q))] * 1000:,.0f}"


def memory(samples, seconds: float) -> tuple[list[str], bool]:
    """Lines on each worker's RSS, and whether it stayed bounded while the backlog of refused
    events kept growing: over the last third of the overload it rose by less than
    max(4 MB, 5 %). (It steps up with the most connections open at once, then stays.)"""
    lines, bounded = [], True
    for pid in sorted({pid for _, by_pid, _, _ in samples for pid in by_pid}):
        series = [(t, by_pid[pid][0] / 1024) for t, by_pid, _, _ in samples if pid in by_pid]
        during = [mb for t, mb in series if 0 <= t < seconds]
        if len(during) < 3:
            continue
        last_third = during[-(len(during) // 3) :]
        rise = max(last_third) - last_third[0]
        grew = rise > max(4.0, 0.05 * last_third[0])
        bounded &= not grew
        every10 = " ".join(f"{mb:.0f}" for t, mb in series if 0 <= t < seconds and int(t) % 10 == 0)
        lines.append(
            f"  worker {pid}: {series[0][1]:.0f} MB before; {every10} MB every 10 s of the overload; "
            f"max {max(during):.0f} MB; {series[-1][1]:.0f} MB after the retries: "
            + (
                f"GREW {rise:.0f} MB in the last third"
                if grew
                else f"flat ({rise:+.0f} MB in the last third)"
            )
        )
    return lines, bounded


def cpu_use(samples, seconds: float) -> str:
    """Cores used during the overload: the gunicorn workers, and the whole machine."""
    window = [s for s in samples if 0 <= s[0] <= seconds]
    if len(window) < 2:
        return "-"
    (t0, w0, busy0, total0), (t1, w1, busy1, total1) = window[0], window[-1]
    ticks, cores = os.sysconf("SC_CLK_TCK"), os.cpu_count()
    workers = sum(w1[p][1] - w0[p][1] for p in w1 if p in w0) / ticks / (t1 - t0)
    machine = (busy1 - busy0) / (total1 - total0) * cores
    return f"gunicorn workers {workers:.2f} cores, whole machine {machine:.2f} of {cores} cores"


def timeline(attempts, samples) -> None:
    """Per second: deliveries sent (first, retries), answers, lateness, workers' CPU and RSS."""
    sent, answers, late = Counter(), Counter(), {}
    for a in attempts:
        sent[(int(a[3]), a[1] > 0)] += 1
        answers[(int(a[4]), int(a[5]))] += 1
        late.setdefault(int(a[3]), []).append(a[3] - a[2])
    ticks = os.sysconf("SC_CLK_TCK")
    print("   s  first  retry |    200    503 slow503 timeout  reset | late p99 ms | workers cpu%  rss MB")
    for (t0, w0, *_), (t1, w1, *_) in itertools.pairwise(samples):
        s = int(t0)
        cpu = sum(w1[p][1] - w0[p][1] for p in w1 if p in w0) / ticks / (t1 - t0) * 100
        print(
            f"{s:4d} {sent[(s, False)]:6d} {sent[(s, True)]:6d} | "
            f"{answers[(s, 200)]:6d} {answers[(s, 503)]:6d} "
            f"{answers[(s, SLOW_503)]:7d} {answers[(s, TIMEOUT)]:7d} {answers[(s, RESET)]:6d} | "
            f"{ms(late.get(s, []), 0.99):>11} | {cpu:12.0f} {sum(r for r, _ in w1.values()) / 1024:7.0f}"
        )


def report(args, plan, attempts, figures, stored, repeated, samples, log: Path) -> int:
    seconds, prefix, events = args.seconds, plan["prefix"], plan["events"]
    first = [a for a in attempts if a[1] == 0]
    late = [a[3] - a[2] for a in first]
    on_time = sum(1 for x in late if x < 0.1) / max(1, len(late))
    print(
        f"generator       {sum(1 for a in first if a[3] < seconds) / seconds:,.0f} first deliveries/s sent "
        f"in the {seconds:.0f} s, {on_time:.1%} within 100 ms of their due time "
        f"(late p99 {ms(late, 0.99)} ms); {figures['most open']:,} connections at most; "
        f"senders' CPU {figures['cpu']:.0f} s"
    )
    if on_time < 0.97:
        print("                THE GENERATOR DID NOT OFFER THIS RATE ON TIME: the figures below are not 3×")

    latencies: dict[int, list[float]] = {}
    for a in attempts:
        latencies.setdefault(int(a[5]), []).append(a[4] - a[3])
    retried = len(attempts) - len(first)
    print(f"answers         {len(attempts):,} deliveries of {events:,} events ({retried:,} retries)")
    for code, lat in sorted(latencies.items(), key=lambda kv: -len(kv[1])):
        print(
            f"  {ANSWER.get(code, str(code)):<29} {len(lat):>9,}   p50 {ms(lat, 0.5):>5} ms, "
            f"p99 {ms(lat, 0.99):>5} ms, max {ms(lat, 1.0):>5} ms"
        )
    in_window = sum(1 for t in stored.values() if plan["start"] <= t < plan["start"] + seconds)
    acked_in_window = sum(1 for a in attempts if a[5] == 200 and a[4] < seconds)
    print(
        f"stored          {in_window / seconds:,.0f} events/s during the overload (rows received in its "
        f"{seconds:.0f} s; {acked_in_window / seconds:,.0f} × 200/s); {cpu_use(samples, seconds)}"
    )
    if args.timeline:
        timeline(attempts, samples)

    ok = {int(a[0]) for a in attempts if a[5] == 200}
    have = {int(e[len(prefix) :]) for e in stored}
    acked_missing = sorted(ok - have)
    lost = sorted(set(range(events)) - have)
    check_a, check_b = not acked_missing and not repeated, not lost
    print(
        f"(a) 200 ⇒ row   {'OK' if check_a else 'FAILED'}: {len(ok):,} events answered 200, "
        f"{len(acked_missing):,} of them without a row, {repeated} with more than one"
    )
    print(
        f"(b) none lost   {'OK' if check_b else 'FAILED'}: {len(have):,} of {events:,} events stored after "
        f"the retries; {len(have - ok):,} stored without ever a 200 (committed after their request gave up)"
    )
    show, wanted = set(acked_missing[:5] + lost[:5]), set(acked_missing[:5]) | set(lost)
    paths: dict[int, list] = {}
    for a in sorted(attempts, key=lambda a: a[1]):
        if int(a[0]) in wanted:
            paths.setdefault(int(a[0]), []).append(a)
    for j in sorted(show):
        print(f"    {prefix}{j:07d}: " + "; ".join(f"{ANSWER[int(a[5])]} at {a[3]:.1f} s" for a in paths[j]))
    why = Counter(", ".join(ANSWER[int(a[5])].split(" (")[0] for a in paths[j]) for j in lost)
    for path, n in why.most_common(5):
        print(f"    {n:,} lost after: {path}")

    lines, bounded = memory(samples, seconds)
    print(f"(c) memory      {'bounded' if bounded else 'GREW'}:")
    print("\n".join(lines))
    refusals = sorted(latencies.get(503, []))
    fast = bool(refusals) and refusals[int(len(refusals) * 0.99)] < REFUSAL_TARGET
    by_kind = [
        [a[4] - a[3] for a in attempts if a[5] == 503 and (a[1] > 0) == retry] for retry in (False, True)
    ]
    print(
        f"(d) refusals    {'fast' if fast else 'NOT FAST'}: {len(refusals):,} × 503 with Retry-After, "
        f"p99 {ms(refusals, 0.99)} ms (first deliveries {ms(by_kind[0], 0.99)} ms, retries, which come in "
        f"bursts, {ms(by_kind[1], 0.99)} ms); {len(latencies.get(SLOW_503, [])):,} × 503 after 2 s"
    )
    lines = log.read_text(errors="replace").splitlines()
    timeouts = sum("not stored: StoreTimeout" in line for line in lines)
    others = [line for line in lines if "not stored: StoreTimeout" not in line]
    print(f"server log      {timeouts:,} × 'not stored: StoreTimeout', {len(others)} other lines")
    for line in others[:5]:
        print(f"    {line[:150]}")
    return 0 if check_a and check_b else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the overload")
    parser.add_argument("--factor", type=float, default=3.0, help="offered = factor × sustainable rate")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (production: 2; 1 is a cap)")
    parser.add_argument(
        "--commit-delay",
        type=int,
        default=100,
        help="cap: ms each commit waits (PostgreSQL commit_delay); 0: uncapped",
    )
    parser.add_argument("--rate", type=float, help="the sustainable rate in events/s: skips phase 1")
    parser.add_argument("--throughput-seconds", type=float, default=20.0, help="length of phase 1")
    parser.add_argument(
        "--retries", default="15,60,120,240", help="seconds before each retry (Feishu: 15,300,3600,21600)"
    )
    parser.add_argument("--senders", type=int, default=2, help="generator processes")
    parser.add_argument("--max-connections", type=int, default=3000, help="per sender")
    parser.add_argument("--nice", type=int, default=-10, help="the senders' priority (below 0: root only)")
    parser.add_argument("--timeline", action="store_true", help="print every second of the run")
    args = parser.parse_args()
    if not shutil.which("wrk") and not args.rate:
        raise SystemExit("wrk not found: apt-get install wrk")

    tmp = Path(tempfile.mkdtemp(prefix="hireops-overload-"))
    env = bench_env(tmp)
    slow = {"commit_delay": args.commit_delay * 1000, "commit_siblings": 0} if args.commit_delay else {}
    log = tmp / "gunicorn.log"
    server = ["config.ingest", "-k", "hireops.events.ingest_worker.IngestWorker", "-w", str(args.workers)]
    with open(log, "w") as stderr, serve(server, env, stderr, **slow) as (port, master):
        print(
            f"server          gunicorn config.ingest, asgi workers: {args.workers}; "
            f"PostgreSQL {env['DATABASE_URL'].rsplit('@', 1)[-1]}; "
            f"broker {env.get('CELERY_BROKER_URL') or env.get('REDIS_URL') or 'filesystem'}"
        )
        caps = [f"every commit waits {args.commit_delay} ms (commit_delay: a slow disk)"] * bool(slow)
        caps += ["1 gunicorn worker (production: 2)"] * (args.workers == 1)
        if caps:
            print(f"capped          {'; '.join(caps)}, because with the generator on this 2-core")
            print(f"                machine {args.factor:g}× the uncapped rate cannot be offered (docstring)")
        if args.rate:
            rate = args.rate
            print(f"sustainable     {rate:,.0f} events/s (given)")
        else:
            rate = throughput(port, args.throughput_seconds, env, tmp, connections=512, echo=False)
            phase = f"wrk, 512 connections, {args.throughput_seconds:.0f} s"
            print(f"sustainable     {rate:,.0f} events/s stored ({phase})")
        print(
            f"overload        {rate * args.factor:,.0f} events/s offered ({args.factor:g}×) for "
            f"{args.seconds:.0f} s, open loop, {args.senders} sender processes; "
            f"retries after {args.retries} s"
        )
        time.sleep(3)  # the server's keep-alive connections from phase 1 close
        load = Path("/proc/loadavg").read_text().split()[0]
        print(
            f"machine         {os.cpu_count()} cores, load average {load} before the overload (all processes)"
        )
        sampler = Sampler(master)
        sampler.start()
        plan, attempts, figures, start_at = offer(port, rate * args.factor, args)
        time.sleep(2)  # anything still committing
        sampler.stop()
        stored, repeated = stored_rows(env["DATABASE_URL"], plan["prefix"])
    plan["start"] = start_at
    samples = [(t - start_at, *rest) for t, *rest in sampler.samples]
    status = report(args, plan, attempts, figures, stored, repeated, samples, log)
    shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
