"""Benchmark: hireops' webhook beside the official SDK's receiver, same machine, same load.

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/webhook_vs_sdk.py [--seconds 15] [--rounds 2]
        [--events mix|eco_account|assets|app_ticket] [--log-level INFO|WARNING] [--duplicates 0.2]
        [--inbox-rows 1000000]

Both servers under gunicorn with 2 workers, each started fresh and driven twice in a row by
wrk (32 connections, 2 threads) replaying distinct signed and encrypted deliveries
(``bench/webhook.py``'s). ``--events``: by default half ``hire.eco_account.created_v1`` and
half ``hire.referral_account.assets_update_v1`` (Feishu's samples), or one of them, or the
store app's schema 1.0 ``app_ticket``. ``--log-level``: hireops' ``LOG_LEVEL``, by default
its own default (INFO); the SDK's receiver logs warnings only, as it is built.
``--duplicates``: the share of deliveries that repeat one of the last thousand (Feishu's retries
of an event whose 200 it did not get: hireops counts them on the stored row, the SDK's
receiver answers them as any other); none by default.

- the peer: lark-oapi's event dispatcher in Flask (``bench/sdk_receiver.py``, sync workers),
  which decrypts, verifies and answers, storing nothing;
- hireops: ``config.ingest`` (ASGI workers), which also stores every event in PostgreSQL
  before its 200, and queues it on the broker.

``--inbox-rows``: the rows in the inbox as each of hireops' runs starts (default 0; a year of a
large customer is about 1,000,000), vacuumed, after a checkpoint (``bench/inbox_state.py``).

Reports each run's answers per second (wrk's count; a non-2xx answer fails the run), hireops'
rows stored per second, and the ratios: the first run against a fresh server shows any
warm-up penalty, the second the warm figure. ``--rounds`` repeats the pair (ABAB) so a
machine that is busier at one moment does not favour one side.
"""

import argparse
import http.client
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.webhook import (
    EVENT_MIXES,
    LUA,
    MAX_RATE,
    PATH,
    THREAD_SETUP,
    bench_env,
    count_rows,
    delivery,
    run,
    serve,
)

SDK = ["bench.sdk_receiver:app", "-w", "2"]
HIREOPS = ["config.ingest", "-k", "hireops.events.ingest_worker.IngestWorker", "-w", "2"]


def write_requests(path: Path, n: int, events: str, duplicates: float = 0.0) -> None:
    lines: list[str] = []
    pick = random.Random(n)  # the same shape of file for both servers
    for i in range(n):
        if lines and pick.random() < duplicates:
            lines.append(lines[max(0, len(lines) - 1000) + pick.randrange(min(len(lines), 1000))])
            continue
        ts, nonce, sig, body = delivery(i, events=events)
        lines.append(f"{ts}\t{nonce}\t{sig}\t{body.decode()}\n")
    path.write_text("".join(lines))


def wrk(port: int, seconds: float, requests: Path, connections: int = 32) -> tuple[float, int]:
    """Answers per second and the non-2xx answers (socket errors included) of one wrk run
    replaying ``requests`` (``write_requests``)."""
    tmp = requests.parent
    script = tmp / "bench.lua"
    script.write_text(THREAD_SETUP + LUA.replace("tonumber(args[3])", "id"))
    out = subprocess.run(
        [
            *("wrk", "-t", "2", "-c", str(connections), "-d", f"{int(seconds)}s", "-s", str(script)),
            *(f"http://127.0.0.1:{port}", "--", str(requests), "2"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    bad += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    if bad:
        print(out)
    return rate, bad


def wait_answering(port: int, timeout: float = 60.0) -> None:
    """Until the server answers HTTP (any status: a GET on the events path is a 405 on both),
    so that neither side's first run includes its workers' boot (the SDK imports for seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", PATH)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    raise SystemExit(f"no HTTP answer on port {port} within {timeout:.0f} s")


def side(
    server: list[str],
    env: dict,
    seconds: float,
    tmp: Path,
    stores: bool,
    events: str,
    duplicates: float = 0.0,
    inbox_rows: int = 0,
) -> list[tuple[float, float]]:
    """Two runs against one fresh server: (answers/s, stored/s) each."""
    runs = []
    with serve(server, env) as (port, _):
        wait_answering(port)
        for _ in range(2):
            if stores:
                prepare_inbox(env, inbox_rows)
            requests = tmp / "requests.tsv"
            # None repeats but the ``duplicates`` share (bench.webhook.MAX_RATE).
            n = int(seconds * MAX_RATE)
            write_requests(requests, n, events, duplicates)
            before, started = (count_rows(env) if stores else 0), time.time()
            rate, bad = wrk(port, seconds, requests)
            elapsed = time.time() - started
            if rate * elapsed > n:
                raise SystemExit(
                    f"{server[0]}: {rate:,.0f} answers/s ran through the {n:,} deliveries: raise MAX_RATE"
                )
            stored = (count_rows(env) - before) / elapsed if stores else 0.0
            if bad:
                raise SystemExit(f"{server[0]}: {bad} answers were not 200")
            runs.append((rate, stored))
    return runs


def prepare_inbox(env: dict, rows: int) -> None:
    """The inbox as the run starts (``bench.inbox_state``), in a process of its own: this one
    does not set Django up."""
    code = "import django; django.setup(); from bench.inbox_state import prepare; prepare(%d, out=print)"
    run([sys.executable, "-c", code % rows], env, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--events", choices=sorted(EVENT_MIXES), default="mix")
    parser.add_argument("--log-level", default="INFO", help="hireops' LOG_LEVEL (default: its own, INFO)")
    parser.add_argument(
        "--duplicates", type=float, default=0.0, help="share of deliveries repeating an earlier one (0-1)"
    )
    parser.add_argument(
        "--inbox-rows", type=int, default=0, help="rows in the inbox as each run starts (1M: a year)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="hireops-bench-sdk-"))
    env = bench_env(tmp, args.log_level)
    print(
        f"events: {args.events}, {args.duplicates:.0%} repeated; hireops' log level: {args.log_level},"
        f" the SDK's: WARNING; inbox: {args.inbox_rows:,} rows as each of hireops' runs starts"
    )
    results = {"sdk": [], "hireops": []}
    for n in range(args.rounds):
        for name, server in (("sdk", SDK), ("hireops", HIREOPS)):
            stores = name == "hireops"
            runs = side(server, env, args.seconds, tmp, stores, args.events, args.duplicates, args.inbox_rows)
            results[name].append(runs)
            (a1, s1), (a2, s2) = runs
            stored = f"; stored {s1:,.0f} then {s2:,.0f}/s" if name == "hireops" else ""
            print(f"round {n + 1} {name:8} fresh server: {a1:,.0f} then {a2:,.0f} answers/s{stored}")
    shutil.rmtree(tmp, ignore_errors=True)

    def median(name, run):
        return statistics.median(r[run][0] for r in results[name])

    first, second = (median("hireops", i) / median("sdk", i) for i in (0, 1))
    warm = {name: median(name, 0) / median(name, 1) for name in results}
    print(f"hireops / SDK     first run {first:.2f}x, second run {second:.2f}x (target >= 1.5x)")
    print(
        f"first / second    hireops {warm['hireops']:.2f}, SDK {warm['sdk']:.2f} (no warm-up penalty: ~1.0)"
    )
    return 0 if min(first, second) >= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
