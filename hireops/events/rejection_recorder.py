"""Record refused deliveries without slowing or failing any delivery, whatever their number.

``recorder.note()`` runs on the request path (the ingest server's event loop, or the Django
view's thread) and only decides, under a lock, in microseconds:

- a token bucket per process lets ``REJECTED_DELIVERIES_PER_SECOND`` refusals through (after
  a burst of ``REJECTED_DELIVERIES_BURST``); the others are counted, not recorded;
- one let through joins a small bounded queue (full: counted like the others), carrying the
  count of those not recorded before it (``suppressed_before``);
- a thread of the process (started on first use, again after a fork) builds the rows and
  inserts them in batches, then trims the table to its cap (``rejected_deliveries``);
- when a flood stops, the last refusal it suppressed is recorded once it has been quiet for
  ``QUIET`` seconds, so its count is written down even if nothing is refused afterwards.

So for one process: rows written + their ``suppressed_before`` = refusals seen, unless the
process dies with some still in memory. A failed insert is logged and its rows become
counts on the next record. Inside a transaction (the Django test client, a view run in
``ATOMIC_REQUESTS``) the row is written at once in that transaction, like ``event_store``.
"""

import asyncio
import logging
import os
import threading
import time
from collections import deque
from typing import NamedTuple

from django.conf import settings
from django.db import connection

from hireops.core.web.client_address import client_address

from .rejected_deliveries import WINDOW, Refusal, rejected_deliveries_store

log = logging.getLogger(__name__)

MAX_QUEUE = 100  # refusals waiting for the thread; also the most rows one batch inserts
LINGER = 0.25  # seconds the thread waits for more refusals before inserting a batch
QUIET = 1.0  # seconds without a refusal after which the last suppressed one is recorded


class Origin(NamedTuple):
    """Where a delivery came from, as its transport saw it."""

    remote_addr: str
    headers: object  # ASGI (bytes, bytes) pairs or a mapping; read only if recorded


class TokenBucket:
    def __init__(self):
        self._tokens: float | None = None  # full on first use
        self._at = 0.0

    def take(self, rate: float, burst: int, now: float) -> bool:
        if self._tokens is None:
            self._tokens = float(burst)
        else:
            self._tokens = min(float(burst), self._tokens + (now - self._at) * rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _forwarded_for(headers) -> str | None:
    """X-Forwarded-For from ASGI's (bytes, bytes) pairs or a mapping of the request's headers."""
    if hasattr(headers, "get"):
        return headers.get("X-Forwarded-For")
    for name, value in headers:
        if name.lower() == b"x-forwarded-for":
            return value.decode("latin-1")
    return None


def _refusal(seen: tuple, suppressed_before: int) -> Refusal:
    received_at, status, reason, kind, body, origin, body_size = seen
    # Behind the proxies the operator declared (TRUSTED_PROXY_COUNT), the sender's address.
    address = client_address(origin.remote_addr, _forwarded_for(origin.headers)) if origin else None
    return Refusal(
        received_at=received_at,
        kind=str(kind),
        reason=reason,
        status=status,
        remote_addr=address or "",
        headers=origin.headers if origin else (),
        body=body[:WINDOW],
        body_size=len(body) if body_size is None else body_size,
        suppressed_before=suppressed_before,
    )


class RejectionRecorder:
    _pid: int
    _thread: threading.Thread | None
    _writing: bool
    _bucket: TokenBucket
    _queue: deque[Refusal]
    _suppressed: int  # refusals not recorded since this process's last record
    # The latest of them (as noted, or a Refusal whose insert failed), for the record written
    # after a flood.
    _last: tuple | None
    _last_at: float
    _hurry: bool

    def __init__(self):
        self._cv = threading.Condition()
        self._after_fork()

    def note(self, status: int, reason: str, kind: str, body: bytes = b"", origin=None, body_size=None):
        """Record this refusal if the rate allows; never raises, never waits on the database.
        In a flood this runs for every refusal, so the path that only counts is kept short."""
        try:
            rate = settings.REJECTED_DELIVERIES_PER_SECOND
            if rate <= 0:
                return
            inline = not _on_event_loop() and connection.in_atomic_block
            seen = (time.time(), status, reason, kind, body, origin, body_size)
            with self._cv:
                if self._pid != os.getpid():  # a forked child: the parent's refusals are the parent's
                    self._after_fork()
                now = time.monotonic()
                if not self._bucket.take(rate, settings.REJECTED_DELIVERIES_BURST, now) or (
                    not inline and len(self._queue) >= MAX_QUEUE
                ):
                    self._suppressed += 1
                    if not inline:  # the thread records it after the flood (inline: the next record)
                        self._last, self._last_at = seen, now
                        if self._thread is None:
                            self._start()
                    return
                refusal = _refusal(seen, self._suppressed)
                self._suppressed, self._last = 0, None
                if not inline:
                    if self._thread is None or not self._thread.is_alive():
                        self._start()
                    self._queue.append(refusal)
                    self._cv.notify_all()
                    return
            self._write([refusal], inline=True)
        except Exception:  # bookkeeping: the delivery's answer must not depend on it
            log.exception("a rejected delivery could not be noted")

    def flush(self, timeout: float = 10.0) -> bool:
        """Write what is waiting now, the last suppressed refusal included; False on timeout."""
        with self._cv:
            if self._pid != os.getpid() or self._thread is None:
                return True
            if not self._thread.is_alive():  # stopped by an error nobody foresaw: not the work
                self._start()
            self._hurry = True
            self._cv.notify_all()
            done = self._cv.wait_for(
                lambda: not self._queue and self._last is None and not self._writing, timeout
            )
            self._hurry = False
            return done

    def reset(self) -> None:
        """Start afresh: a full bucket, nothing counted or queued (tests)."""
        with self._cv:
            self._forget()

    def _forget(self) -> None:
        self._bucket = TokenBucket()
        self._queue = deque()
        self._suppressed = 0
        self._last = None
        self._last_at = 0.0
        self._hurry = False

    def _after_fork(self) -> None:
        self._pid = os.getpid()
        self._thread = None  # the parent's thread is not running here
        self._writing = False
        self._forget()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rejection-recorder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                self._wait_for_work()
                self._cv.wait_for(lambda: len(self._queue) >= MAX_QUEUE or self._hurry, LINGER)
                batch = [self._queue.popleft() for _ in range(len(self._queue))]
                self._writing = True
            try:
                self._write(batch, inline=False)
                with self._cv:
                    idle = not self._queue and self._last is None
                if idle:  # no connection kept while nothing is refused
                    connection.close()
                else:
                    connection.close_if_unusable_or_obsolete()
            except Exception:  # the thread outlives any error: it is all the recording there is
                log.exception("the rejection recorder's connection could not be tidied")
            finally:
                with self._cv:
                    self._writing = False
                    self._cv.notify_all()

    def _wait_for_work(self) -> None:
        """Return (lock held) once the queue has something: a refusal let through, or the
        last suppressed one when the flood is over (or ``flush`` asks)."""
        while not self._queue:
            if self._last is None:
                self._cv.wait()
                continue
            rate = max(settings.REJECTED_DELIVERIES_PER_SECOND, 0.01)
            now = time.monotonic()
            quiet_for = now - self._last_at
            if self._hurry or (
                quiet_for >= QUIET and self._bucket.take(rate, settings.REJECTED_DELIVERIES_BURST, now)
            ):
                # It is one of the suppressed: it carries the count of the others.
                last, before = self._last, self._suppressed - 1
                refusal = (
                    last._replace(suppressed_before=before)
                    if isinstance(last, Refusal)
                    else _refusal(last, before)
                )
                self._queue.append(refusal)
                self._suppressed, self._last = 0, None
                return
            self._cv.wait(QUIET - quiet_for if quiet_for < QUIET else 1 / rate)  # quiet, or a token

    def _write(self, refusals: list[Refusal], *, inline: bool) -> None:
        try:
            rejected_deliveries_store(refusals)  # its own transaction, or a savepoint in the caller's
        except Exception as exc:
            # The type only: a database's message can quote what was being inserted.
            log.warning("%d rejected deliveries not recorded: %s", len(refusals), type(exc).__name__)
            with self._cv:  # not lost silently: they count on the next record
                self._suppressed += len(refusals) + sum(r.suppressed_before for r in refusals)
                # The thread tries again once quiet (at most once per QUIET while the database
                # is away); a flush does not wait for that.
                if not inline and not self._hurry and self._last is None:
                    self._last, self._last_at = refusals[-1], time.monotonic()


recorder = RejectionRecorder()
