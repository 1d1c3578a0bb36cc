"""Benchmark: a burst of partner API writes, each with its own Idempotency-Key, as production
serves them.

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/api_writes.py [--seconds 15]
        [--connections 16] [--web-concurrency 2] [--web-threads 4]

The admin server as the deployment runs it (``gunicorn config.wsgi``, DEBUG off, gthread with
``WEB_CONCURRENCY`` processes of ``WEB_THREADS`` threads: 2 and 4 by default, as
docs/deployment.md says), PostgreSQL (DATABASE_URL, default hireops_api_writes_bench, created
and migrated here) and Redis (REDIS_URL: the cache that counts each key's requests, shared by
the processes as in production). The load comes from ``wrk`` (Debian package ``wrk``) on the
same machine: ``POST /api/v1/customers``, a new customer with one identifier and a new
Idempotency-Key each request. Then a replay: the same keys and bodies again, which must answer
the first answers without writing.

Checked: every 201 of the burst is one customer and one kept answer (no key written twice, no
5xx, no 429); every replay answers with ``Idempotent-Replayed: true`` and no customer is added.
``API_RATE_LIMIT`` (1,000 a minute per key by default) is raised for the run: that limit is
the deployment's choice for one partner, not the capacity measured here.

Target: >= 500 write requests/s on this machine.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import api_server_env, create_database, redis_missing  # noqa: E402
from bench.webhook import run, serve  # noqa: E402

TARGET = 500.0
PATH = "/api/v1/customers"

# Each wrk thread writes customers "<prefix>-<thread>-<n>": the key, the name and the identifier
# are the same string, so a replay of a key sends its body again exactly.
BURST = r"""
local counter, n = 0, 0
function setup(thread)
  thread:set("id", counter); counter = counter + 1
end
function request()
  n = n + 1
  local key = string.format("PREFIX-%d-%d", id, n)
  return wrk.format("POST", "PATH", {
    ["Authorization"] = "Bearer TOKEN", ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key},
    '{"name":"' .. key .. '","identifiers":[{"key":"org_id","value":"' .. key .. '"}]}')
end
"""

# The replay: the keys the burst wrote (one a line, from the database), over and over.
REPLAY = r"""
local counter, keys, i = 0, {}, 0
function setup(thread)
  thread:set("id", counter); counter = counter + 1
end
function init(args)
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % tonumber(args[2]) == id then keys[#keys + 1] = line end
    line_no = line_no + 1
  end
end
function request()
  i = i % #keys + 1
  local key = keys[i]
  return wrk.format("POST", "PATH", {
    ["Authorization"] = "Bearer TOKEN", ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key},
    '{"name":"' .. key .. '","identifiers":[{"key":"org_id","value":"' .. key .. '"}]}')
end
"""

COUNTS = """
from bindings.models import VendorCustomer
from hireops.api.models import IdempotentRequest
prefix = {prefix!r} + "-"
print(VendorCustomer.objects.filter(name__startswith=prefix).count())
kept = IdempotentRequest.objects.filter(key__startswith=prefix)
print(kept.filter(status_code=201).count(), kept.count())
"""


def _wrk(script: Path, port: int, seconds: int, connections: int, *args: str) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script)]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}", "--", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return {
        "requests": requests,
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "p50": latency.get("50", "?"),
        "p99": latency.get("99", "?"),
    }


def _counts(env: dict, prefix: str) -> tuple[int, int, int]:
    out = run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", COUNTS.format(prefix=prefix)],
        env,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def _keys(env: dict, prefix: str, path: Path) -> None:
    code = (
        "from hireops.api.models import IdempotentRequest\n"
        f"print('\\n'.join(IdempotentRequest.objects.filter(key__startswith={prefix + '-'!r})"
        ".values_list('key', flat=True)))"
    )
    out = run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code], env, capture_output=True, text=True
    ).stdout
    path.write_text(out)


def _api_key(env: dict) -> str:
    made = run(
        [sys.executable, "manage.py", "create_api_key", "bench: api writes", "--scope", "customers:write"],
        env,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web-concurrency", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    args = parser.parse_args()
    if redis_missing():
        return 2
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="hireops-api-writes-"))
    env = api_server_env(tmp)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hireops_api_writes_bench")
    if not env["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("the benchmark measures PostgreSQL: set DATABASE_URL=postgres://...")
    create_database(env["DATABASE_URL"])
    run([sys.executable, "manage.py", "migrate", "-v", "0"], env)
    token = _api_key(env)
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    burst, replay, warm = tmp / "burst.lua", tmp / "replay.lua", tmp / "warm.lua"
    for path, script, keys in ((burst, BURST, prefix), (replay, REPLAY, prefix), (warm, BURST, f"{prefix}w")):
        path.write_text(script.replace("PREFIX", keys).replace("PATH", PATH).replace("TOKEN", token))
    server = [
        "config.wsgi",
        "-k",
        "gthread",
        "-w",
        str(args.web_concurrency),
        "--threads",
        str(args.web_threads),
    ]
    print(
        f"gunicorn config.wsgi: {args.web_concurrency} processes x {args.web_threads} threads, DEBUG off;"
        f" wrk: 2 threads, {args.connections} connections, {args.seconds} s each phase"
    )
    with serve(server, env) as (port, _):
        _wrk(warm, port, 2, 4)  # warm-up (keys of its own): imports, connections, compiled queries
        before = _counts(env, prefix)
        started = time.monotonic()
        written = _wrk(burst, port, args.seconds, args.connections)
        elapsed = time.monotonic() - started
        customers, kept_201, kept = (a - b for a, b in zip(_counts(env, prefix), before, strict=True))
        keys = tmp / "keys.txt"
        _keys(env, prefix, keys)
        replayed = _wrk(replay, port, args.seconds, args.connections, str(keys), "2")
        after_replay = _counts(env, prefix)
    print(
        f"burst           {written['requests']} writes in {elapsed:.1f} s: {written['rate']:.0f} requests/s,"
        f" p50 {written['p50']}, p99 {written['p99']}, non-2xx {written['non2xx']}"
    )
    print(f"stored          {customers} customers, {kept_201} answers kept as 201 ({kept} keys)")
    print(
        f"replay          {replayed['requests']} replays: {replayed['rate']:.0f} requests/s,"
        f" p50 {replayed['p50']}, p99 {replayed['p99']}, non-2xx {replayed['non2xx']};"
        f" customers added by it: {after_replay[0] - before[0] - customers}"
    )
    passed = (
        written["non2xx"] == 0
        # wrk counts the answers it read in time; the requests still in flight then are written too.
        and customers == kept_201 == kept
        and written["requests"] <= customers <= written["requests"] + args.connections
        and replayed["non2xx"] == 0
        and after_replay[0] - before[0] == customers
        and written["rate"] >= TARGET
    )
    print(f"target          >= {TARGET:.0f} requests/s, every write once")
    print("RESULT          " + ("PASS" if passed else "FAIL"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
