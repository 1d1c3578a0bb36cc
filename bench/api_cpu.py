"""Benchmark: the CPU one partner API write and one replay take in the web process, without a
server: each request through Django's WSGI handler in a process of its own (production settings,
DEBUG off), so the figure is the code's own and not how a machine's scheduler shared connections
between server processes (bench/api_writes.py measures the server).

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/api_cpu.py [--rounds 20] [--requests 50]
        [--against PATH]

A round writes ``--requests`` new customers (``POST /api/v1/customers``, a new Idempotency-Key
each) and then replays them; its figure is the process's CPU time (user and system, its side of
the Redis and PostgreSQL round trips included) over its requests. The database (DATABASE_URL,
default hireops_api_cpu_bench) is created and migrated first.

``--against`` compares with another checkout of hireops (with its own ``.venv``), on a database
of its own (``<database>_against``): both processes are started, then each round runs in one and
then in the other, in alternating order, so a busy moment of the machine falls on both. Printed:
each one's median, and the median of the rounds' ratios (this tree's over the other's).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("write", "replay")


def serve(tree: Path) -> None:
    """The measuring process: reads "<round>" lines, answers "<write ms> <replay ms>"."""
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    made = io.StringIO()
    call_command("create_api_key", "bench: api cpu", "--scope", "customers:write", stdout=made)
    token = made.getvalue().strip().splitlines()[-1]
    application = get_wsgi_application()

    def post(key: str) -> str:
        body = json.dumps({"name": key, "identifiers": [{"key": "org_id", "value": key}]}).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/customers",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_IDEMPOTENCY_KEY": key,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        status: list[str] = []
        answer = application(environ, lambda line, headers, *exc: status.append(line))
        b"".join(answer)
        answer.close()
        if not status[0].startswith("201"):
            raise SystemExit(f"{key}: answered {status[0]}")
        return status[0]

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    for n in range(20):  # warm-up: imports, connections, prepared statements
        post(f"{prefix}-warm-{n}")
        post(f"{prefix}-warm-{n}")
    print("ready", flush=True)
    for line in sys.stdin:
        round_no, requests = line.split()
        keys = [f"{prefix}-{round_no}-{n}" for n in range(int(requests))]
        spent = []
        for _kind in KINDS:
            started = time.process_time()
            for key in keys:
                post(key)
            spent.append((time.process_time() - started) / len(keys) * 1000)
        print(" ".join(f"{ms:.4f}" for ms in spent), flush=True)


def start(tree: Path, python: str, database: str) -> subprocess.Popen:
    from bench.support import api_server_env

    env = {**api_server_env(tree / "var" / "bench-api-cpu"), "DATABASE_URL": database}
    process = subprocess.Popen(
        [python, __file__, "--serve", str(tree)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "ready":
            return process
    raise SystemExit(f"{tree}: the measuring process did not start")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--against", type=Path)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    sys.path.insert(0, str(ROOT))
    from bench.support import create_database, redis_missing

    if redis_missing():
        return 2
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hireops_api_cpu_bench")
    trees = {"this tree": (ROOT, sys.executable, database)}
    if args.against:
        other = args.against.resolve()
        trees["against"] = (other, str(other / ".venv" / "bin" / "python"), database + "_against")
    processes = {}
    for name, (tree, python, url) in trees.items():
        create_database(url)
        processes[name] = start(tree, python, url)
    figures: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in KINDS} for name in trees}
    names = list(trees)
    for round_no in range(args.rounds):
        for name in names[round_no % 2 :] + names[: round_no % 2]:  # alternating order
            process = processes[name]
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(f"{round_no} {args.requests}\n")
            process.stdin.flush()
            for kind, ms in zip(KINDS, process.stdout.readline().split(), strict=True):
                figures[name][kind].append(float(ms))
    for process in processes.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait(30)
    print(f"{args.rounds} rounds of {args.requests} writes and their replays, ms of CPU a request")
    for name, (tree, _python, _url) in trees.items():
        for kind in KINDS:
            ms = figures[name][kind]
            print(f"{name:<10} {kind:<7} median {statistics.median(ms):.3f}  best {min(ms):.3f}  ({tree})")
    if args.against:
        for kind in KINDS:
            pairs = zip(figures["this tree"][kind], figures["against"][kind], strict=True)
            ratios = [a / b for a, b in pairs]
            print(f"ratio      {kind:<7} median {statistics.median(ratios):.3f} (this tree over the other)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
