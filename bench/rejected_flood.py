"""Benchmark: a flood of refused deliveries, and what recording them costs the ingest server.

    .venv/bin/python bench/rejected_flood.py [--seconds 5] [--rounds 3] [--kept 20] [--concurrency 64]

Drives the ingest server's ASGI application (``hireops.events.asgi``) in-process, on one
event loop as one ingest process runs it, with PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/hireops_rejected_bench, created and migrated here). Every
request is a signed, encrypted delivery whose signature does not match: what a sender
with the wrong Encrypt Key, or a hostile one, produces, and the cheapest refusal there is
(so the recorder's share is at its largest). Rounds of ``--seconds`` alternate recording
off (REJECTED_DELIVERIES_PER_SECOND=0) and on (the default rate and burst, the table
capped at ``--kept`` rows so that the cap acts within the run); each reports the process's
CPU time per refusal (all threads: the recorder's writes included), which a shared machine
disturbs less than wall-clock rates. A thread samples the table's size meanwhile.

Targets: recording adds under 10 µs of CPU per refused delivery; the table never holds
more than ``--kept`` + 100 rows (one batch).
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import create_database  # noqa: E402

KEY, TOKEN = "bench-encrypt-key", "bench-verification-token"


def wrong_signature_delivery() -> tuple[bytes, list]:
    from hireops.feishu import crypto

    body = ('{"encrypt": "%s"}' % crypto.encrypt('{"schema": "2.0"}', KEY)).encode()  # noqa: UP031
    ts = str(int(time.time()))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"user-agent", b"bench"),
        (b"x-lark-request-timestamp", ts.encode()),
        (b"x-lark-request-nonce", b"n-1"),
        (b"x-lark-signature", b"0" * 64),
    ]
    return body, headers


async def flood(seconds: float, concurrency: int) -> int:
    from hireops.events.asgi import application

    body, headers = wrong_signature_delivery()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/feishu/events/",
        "client": ("198.51.100.9", 5000),
        "headers": headers,
    }
    deadline, done = time.monotonic() + seconds, 0

    async def one():
        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                assert message["status"] == 401, message

        await application(scope, receive, send)

    while time.monotonic() < deadline:
        await asyncio.gather(*(one() for _ in range(concurrency)))
        done += concurrency
    return done


def cpu_per_refusal(seconds: float, concurrency: int) -> float:
    """Microseconds of the process's CPU time per refused delivery."""
    started = time.process_time()
    n = asyncio.run(flood(seconds, concurrency))
    return 1e6 * (time.process_time() - started) / n


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kept", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hireops_rejected_bench")
    os.environ.setdefault("HIREOPS_VAR_DIR", tempfile.mkdtemp(prefix="hireops-rejected-bench-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        FEISHU_ENCRYPT_KEY=KEY,
        FEISHU_VERIFICATION_TOKEN=TOKEN,
        REJECTED_DELIVERIES_KEPT=str(args.kept),
    )
    create_database(url)
    import logging

    import django

    django.setup()
    logging.getLogger("hireops.events.delivery").setLevel(logging.WARNING)  # an INFO line per refusal
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max

    from hireops.events.models import RejectedDelivery
    from hireops.events.rejection_recorder import recorder

    call_command("migrate", verbosity=0)
    first_id = (RejectedDelivery.objects.aggregate(n=Max("id"))["n"] or 0) + 1  # ids are not reused
    RejectedDelivery.objects.all().delete()
    most, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            most[0] = max(most[0], RejectedDelivery.objects.count())
            time.sleep(0.01)
        connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    off, on = [], []
    try:
        for _ in range(args.rounds):
            settings.REJECTED_DELIVERIES_PER_SECOND = 0
            off.append(cpu_per_refusal(args.seconds, args.concurrency))
            settings.REJECTED_DELIVERIES_PER_SECOND = 5.0
            on.append(cpu_per_refusal(args.seconds, args.concurrency))
        assert recorder.flush(10.0)
    finally:
        stop.set()
        watcher.join()
    written = (RejectedDelivery.objects.aggregate(n=Max("id"))["n"] or first_id - 1) - first_id + 1
    kept = RejectedDelivery.objects.count()
    cost = statistics.median(on) - statistics.median(off)
    print(f"CPU per refused delivery, median of {args.rounds} rounds of {args.seconds:g} s:")
    print(
        f"  recording off {statistics.median(off):.1f} µs, on {statistics.median(on):.1f} µs: {cost:+.1f} µs"
    )
    print(f"rows: {written} written, {kept} kept, at most {most[0]} at once (cap {args.kept})")
    return 0 if most[0] <= args.kept + 100 else 1


if __name__ == "__main__":
    sys.exit(main())
