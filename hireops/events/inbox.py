"""The inbox writer: concurrent deliveries committed together, one batch at a time.

Every webhook request still waits until its own row is committed (Feishu gets its 200
only then), but the rows of requests that arrive while a commit is under way go into
the next one: one INSERT and one commit for many events. A request that arrives alone
is written at once; nothing waits for a batch to fill.

Past what the machine can commit, the queue is bounded: a delivery that would wait behind
more than ``QUEUE_MAX`` rows, behind a row waiting longer than ``QUEUE_MAX_AGE``, or behind
more rows than the last batches' pace commits in ``QUEUE_MAX_AGE`` (a slow database: 1,000
rows at 50 per 100 ms commit take 2 s), is refused at once (``Overloaded``: 503 with
Retry-After, Feishu retries it) instead of answering 503 two seconds later while the row
may still commit: work done in vain. A row whose request gave up before the writer took it
is skipped, so a 503 means "not stored" unless the row was already being written. Every
200 still means committed.

Those rules are ``Pacing``'s. ``InboxWriter`` runs them on a thread of its own, for the
Django view and wherever no server attached a writer to its event loop; on PostgreSQL the
ingest server and the listener attach ``loop_writer.LoopWriter``, which runs them on the loop
(``serving`` picks the one for the caller). Each keeps its own database connection for the
life of the process. It is not tied to a request, so Django's per-request rules
(CONN_MAX_AGE, health checks) do not apply to it; a connection the server dropped is replaced
on the spot instead.
"""

import asyncio
import contextlib
import json
import logging
import math
import os
import threading
import time
from collections import Counter, defaultdict, deque
from datetime import datetime
from functools import cache
from typing import NamedTuple, Protocol

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from hireops.core import trends
from hireops.core.logs import current as log_ids
from hireops.core.trends.models import TrendDirtyBucket
from hireops.tenants.services import tenants_seen

from . import trend
from .models import FeishuEvent

log = logging.getLogger(__name__)

MAX_BATCH = 50  # rows per INSERT: 50 × 13 parameters stays far below every backend's limit
COMMIT_TIMEOUT = 2.0  # seconds a request waits for its commit; Feishu gives up after 3
# A row queued behind one that has waited this long would likely miss COMMIT_TIMEOUT.
QUEUE_MAX_AGE = 1.0


class InboxRow(NamedTuple):
    """One delivery as stored; the fields are FeishuEvent's columns."""

    event_id: str
    schema: str
    event_type: str
    app_id: str
    tenant_key: str
    create_time: str
    account_id: str
    payload: str  # JSON text
    received_at: datetime
    status: str
    attempts: int = 0
    last_error: str = ""
    duplicate_count: int = 0


class Stored(NamedTuple):
    pk: int | None  # None for a duplicate delivery
    created: bool


DUPLICATE = Stored(None, False)


class Kept(NamedTuple):
    """A delivery a commit kept, as the commit's log line names it."""

    row: InboxRow
    stored: Stored
    via: str  # "webhook" or "long connection"
    request_id: str  # the delivering request's, "" for none (the long connection)


def delivering_request_id() -> str:
    """The id of the request delivering the row being stored (its log context; "" for none),
    taken where the row is handed over: the commit's line is written elsewhere."""
    return log_ids().get("request_id", "")


def log_kept(kept: list[Kept]) -> None:
    """One line for the deliveries a commit kept, each named by its event id, type, outcome,
    channel and request id (``events`` in a JSON line): one line a delivery cost the ingest
    server an eighth of its CPU under load (docs/benchmarks.md). ``LOG_LEVEL=DEBUG`` adds a
    line a delivery as well, written where it is answered."""
    if not kept or not log.isEnabledFor(logging.INFO):
        return
    stored = sum(1 for k in kept if k.stored.created)
    events = [
        {
            "event_id": k.row.event_id,
            "event_type": k.row.event_type,
            "outcome": "stored" if k.stored.created else "duplicate",
            "via": k.via,
            "request_id": k.request_id,
        }
        for k in kept
    ]
    said = "; ".join(
        f"{e['event_id']} ({e['event_type']}) {e['outcome']}"
        + ("" if e["via"] == "webhook" else f" ({e['via']})")
        + (f" [request {e['request_id']}]" if e["request_id"] else "")
        for e in events
    )
    log.info(
        "feishu events committed: %d stored, %d duplicate: %s",
        stored,
        len(kept) - stored,
        said,
        extra={"events": events},
    )


class StoreTimeout(DatabaseError):
    """Not committed in time. It may still commit; Feishu's retry is then a duplicate."""


class Overloaded(DatabaseError):
    """Refused before queueing: the writer is behind. Nothing was stored."""


# PostgreSQL's type of each InboxRow column that is not text.
_PG_TYPES = {"payload": "jsonb", "received_at": "timestamptz", "attempts": "int", "duplicate_count": "int"}


@cache
def insert_sql(vendor: str, n: int) -> str:
    # ON CONFLICT makes a duplicate a no-op instead of an error; RETURNING names the
    # rows that were new. Only model metadata goes into the string; every value is a
    # bound parameter. PostgreSQL and SQLite (3.35+) both run it.
    table = connection.ops.quote_name(FeishuEvent._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in InboxRow._fields)
    if vendor == "postgresql":
        # The whole batch as one JSON array of rows, expanded by the server: one parameter that
        # json.dumps writes in C, in a statement psycopg parses once. 50 rows of VALUES were 650
        # parameters, each adapted and quoted in Python, in a string parsed again at every batch:
        # 72 us of the writer's CPU per row, held under the GIL the listener's loop needs.
        # jsonb, not json: the batch is parsed once, where json's ->> parsed each row's text
        # again for every column (a 16-row batch: 1.4 -> 1.0 ms of the server's CPU).
        values = ", ".join(
            f"(r->>{i})::{_PG_TYPES[c]}" if c in _PG_TYPES else f"r->>{i}"
            for i, c in enumerate(InboxRow._fields)
        )
        # The hours of the new rows are marked for the trends (hireops.core.trends) by the same
        # statement, so in the same transaction, at no extra round trip.
        marks = connection.ops.quote_name(TrendDirtyBucket._meta.db_table)
        return (
            f"WITH stored AS (INSERT INTO {table} ({cols}) SELECT {values} "  # noqa: S608
            "FROM jsonb_array_elements(%s::jsonb) AS r "
            "ON CONFLICT (event_id) DO NOTHING RETURNING id, event_id, received_at), "
            f"marked AS (INSERT INTO {marks} (metric, bucket) "
            "SELECT DISTINCT %s, date_trunc('hour', received_at, 'UTC') FROM stored "
            "ON CONFLICT (metric, bucket) DO NOTHING) "
            "SELECT id, event_id FROM stored"
        )
    one = "(" + ", ".join(["%s"] * len(InboxRow._fields)) + ")"
    return (
        f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * n)} "  # noqa: S608
        "ON CONFLICT (event_id) DO NOTHING RETURNING id, event_id"
    )


def insert_params(vendor: str, rows: list[InboxRow]) -> list:
    if vendor == "postgresql":
        # The insert's JSON takes the time as text (the row's type says datetime).
        batch = [r._replace(received_at=r.received_at.isoformat()) for r in rows]  # type: ignore[arg-type]
        return [json.dumps(batch, ensure_ascii=False), trend.METRIC]
    adapt = connection.ops.adapt_datetimefield_value
    return [v for r in rows for v in r._replace(received_at=adapt(r.received_at))]  # type: ignore[arg-type]


def _one_statement():
    """Where the inbox's single statements run. Outside a transaction a statement commits by
    itself: one round trip to the database, where BEGIN, the statement and COMMIT were three
    (1.3 against 0.5 ms a batch alone, and each answer waited for again under the GIL that the
    listener's event loop shares). Inside a caller's transaction a savepoint: a refused
    statement leaves that transaction usable."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def unique_rows(rows: list[InboxRow]) -> dict[str, int]:
    """event_id → index of its first row: a batch inserts each event once."""
    first: dict[str, int] = {}
    for i, row in enumerate(rows):
        first.setdefault(row.event_id, i)
    return first


def outcomes(rows: list[InboxRow], first: dict[str, int], inserted: dict[str, int]) -> list[Stored]:
    """What happened to each row, in order, given the ids of the rows the insert returned."""
    return [
        Stored(inserted[r.event_id], True) if first[r.event_id] == i and r.event_id in inserted else DUPLICATE
        for i, r in enumerate(rows)
    ]


def repeats(rows: list[InboxRow], results: list[Stored]) -> Counter:
    """Deliveries of events already stored, by event id."""
    return Counter(r.event_id for r, s in zip(rows, results, strict=True) if not s.created)


def new_tenants(rows: list[InboxRow], results: list[Stored]) -> list[str]:
    return [r.tenant_key for r, s in zip(rows, results, strict=True) if s.created]


def insert_rows(rows: list[InboxRow]) -> list[Stored]:
    """Insert rows in one statement and count the others as duplicates, in the caller's
    transaction or on their own. Returns what happened to each row, in order."""
    first = unique_rows(rows)
    unique = [rows[i] for i in first.values()]
    vendor = connection.vendor
    # A batch's rows are one statement, so they commit together either way (``_one_statement``).
    # PostgreSQL's marks its rows' hours for the trends in the same statement; elsewhere the
    # marks are a second statement, in the same transaction.
    with _one_statement() if vendor == "postgresql" else transaction.atomic(), connection.cursor() as cursor:
        sql = insert_sql(vendor, 0 if vendor == "postgresql" else len(unique))
        cursor.execute(sql, insert_params(vendor, unique))
        inserted = {event_id: pk for pk, event_id in cursor.fetchall()}
        if vendor != "postgresql":
            trends.mark(trend.METRIC, (r.received_at for r in unique if r.event_id in inserted))
    results = outcomes(rows, first, inserted)
    _count_duplicates(repeats(rows, results))
    _note_tenants(new_tenants(rows, results))
    return results


def _count_duplicates(repeats: Counter) -> None:
    """Count deliveries of events already stored, once their batch is committed: bookkeeping
    that fails is logged and never refuses a delivery (its row is stored)."""
    if not repeats:
        return
    now = timezone.now()
    try:
        if connection.vendor == "postgresql":
            _count_duplicates_at_once(repeats, now)
        else:
            with transaction.atomic():  # a savepoint inside a caller's transaction, which stays usable
                for event_id, n in repeats.items():
                    FeishuEvent.objects.filter(event_id=event_id).update(
                        duplicate_count=F("duplicate_count") + n, last_duplicate_at=now
                    )
    except DatabaseError as exc:
        log.warning("could not count %d duplicate deliveries: %s", sum(repeats.values()), type(exc).__name__)


# The rows are locked in id order first, so two writers counting overlapping duplicates wait
# for each other instead of deadlocking. Only the table's name is put into it.
_COUNT_DUPLICATES = (
    "WITH counted(event_id, n) AS (SELECT * FROM unnest(%s::text[], %s::int[])),"
    " locked AS (SELECT e.id, counted.n FROM {table} e JOIN counted USING (event_id)"
    " ORDER BY e.id FOR UPDATE OF e)"
    " UPDATE {table} e SET duplicate_count = e.duplicate_count + locked.n, last_duplicate_at = %s"
    " FROM locked WHERE e.id = locked.id"
)


def count_duplicates_statement(repeats: Counter, now: datetime) -> tuple[str, list]:
    """PostgreSQL's one statement for a batch's duplicates: an ORM update each made a delivery
    of an event already stored cost twice a new one (a retry storm, docs/benchmarks.md)."""
    sql = _COUNT_DUPLICATES.format(table=connection.ops.quote_name(FeishuEvent._meta.db_table))
    return sql, [list(repeats), list(repeats.values()), now]


def _count_duplicates_at_once(repeats: Counter, now: datetime) -> None:
    with _one_statement(), connection.cursor() as cursor:
        cursor.execute(*count_duplicates_statement(repeats, now))


def _note_tenants(keys) -> None:
    """Record the tenants these events came from (hireops.tenants), after the events
    committed: bookkeeping that fails is logged and never refuses a delivery; the tenant's
    next event records it again."""
    try:
        tenants_seen(keys)
    except DatabaseError:
        log.exception("could not record the tenants of stored events")


class _Waiter:
    """A request waiting for its row's commit."""

    __slots__ = ("cancelled", "enqueued", "error", "request_id", "result", "row", "via")

    def __init__(self, row: InboxRow, via: str):
        self.result: Stored | None
        self.error: Exception | None
        self.row, self.result, self.error = row, None, None
        self.cancelled, self.enqueued = False, time.monotonic()
        # For the commit's log line, which the writer's thread writes outside the request.
        self.via, self.request_id = via, delivering_request_id()


class _ThreadWaiter(_Waiter):
    """A request waiting on a thread (the Django view)."""

    __slots__ = ("done",)

    def __init__(self, row: InboxRow, via: str):
        super().__init__(row, via)
        self.done = threading.Event()

    def answered(self) -> bool:
        return self.done.is_set()


class AsyncWaiter(_Waiter):
    """A request waiting on an event loop (the ASGI endpoint, the listener): a future only,
    no threading.Event (a Condition and a lock each, 7 % of the listener's CPU under load)."""

    __slots__ = ("decided", "future", "loop")

    def __init__(self, row: InboxRow, via: str):
        super().__init__(row, via)
        self.loop = asyncio.get_running_loop()
        self.future = self.loop.create_future()
        self.decided = False  # set on the loop once the writer's outcome is in

    def answered(self) -> bool:
        return self.decided


def wake(waiters: list[AsyncWaiter]) -> None:  # runs on the waiters' event loop
    for w in waiters:
        w.decided = True
        if not w.future.done():
            w.future.set_result(None)


def _time_out(future: asyncio.Future) -> None:  # runs on the waiter's event loop
    if not future.done():
        future.set_result(None)  # ``decided`` still False: the waiter gives up


class Pacing:
    """What every inbox writer shares: the bound on its queue, its pace, the answers it gives
    its waiters and what readiness and the operators see. ``InboxWriter`` commits on a thread
    of its own; ``hireops.events.loop_writer`` on a server's event loop."""

    def __init__(
        self,
        max_batch: int = MAX_BATCH,
        timeout: float = COMMIT_TIMEOUT,
        queue_max: int | None = None,
        queue_max_age: float = QUEUE_MAX_AGE,
    ):
        self._max_batch, self._timeout = max_batch, timeout
        self._given_queue_max = queue_max  # None: INBOX_QUEUE_MAX, read at each look (_queue_max)
        self._queue_max_age = queue_max_age
        # What readiness and the operators see: the last commit, the last failure, refusals.
        self.last_commit: float | None = None  # time.monotonic() values
        self.last_failure: float | None = None
        self.refused = 0
        self._batch_seconds = 0.0  # how long a batch takes to write, recently (0: not known yet)
        self._queue: deque[_Waiter] = deque()

    def refuses_now(self) -> bool:
        """Whether a delivery arriving now would be refused as ``Overloaded`` (and if so, counted
        as refused): cheap, so the endpoint decides before reading, verifying or decrypting the
        body, and a refusal under overload costs next to nothing. Read without the thread
        writer's lock: a stale "no" only moves the refusal to where the delivery is queued,
        which decides again."""
        try:
            behind = self._behind(time.monotonic())
        except IndexError:  # the queue emptied between its length and its first row: not behind
            return False
        if behind:
            self.refused += 1
        return behind

    async def _awaited(self, waiter: AsyncWaiter) -> Stored:
        # One timer on the future the writer resolves, not wait_for(shield(...)): that made
        # three more futures, a task wake-up and their callbacks per delivery (6 % of the listener).
        timer = waiter.loop.call_later(self._timeout, _time_out, waiter.future)
        try:
            await waiter.future
        finally:
            timer.cancel()
        if not waiter.decided:
            self._give_up(waiter)
        return self._outcome(waiter)

    def _give_up(self, waiter: _ThreadWaiter | AsyncWaiter) -> None:
        if waiter.answered():
            return  # answered meanwhile
        waiter.cancelled = True  # skipped if the writer has not taken it yet
        raise StoreTimeout("the inbox did not commit in time")

    def health(self) -> dict:
        """Readiness of this process's writer: it can commit (its last attempt did not fail)
        and it is not refusing deliveries for being behind."""
        behind, queued = self._behind(time.monotonic()), len(self._queue)
        failing = self.last_failure is not None and (self.last_commit or 0) < self.last_failure
        detail = "cannot commit" if failing else "behind: refusing deliveries" if behind else ""
        return {"ok": not (failing or behind), "detail": detail, "queued": queued, "refused": self.refused}

    @staticmethod
    def _outcome(waiter: _Waiter) -> Stored:
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]  # set once there was no error

    @property
    def _queue_max(self) -> int:
        # The module's writer is made at import: the setting is read when it is used.
        given = self._given_queue_max
        return given if given is not None else settings.INBOX_QUEUE_MAX

    def _behind(self, now: float) -> bool:
        queued = len(self._queue)
        if queued >= self._queue_max:
            return True
        if not queued:
            return False  # the next batch; it also measures again a writer that was slow
        return now - self._queue[0].enqueued > self._queue_max_age or queued >= self._pace()

    def _pace(self) -> float:
        """Rows the writer commits in ``queue_max_age`` at its recent pace: a row queued
        behind more would wait longer than that (unbounded until a batch was measured)."""
        if not self._batch_seconds:
            return math.inf
        return self._max_batch * self._queue_max_age / self._batch_seconds

    def _next_batch(self) -> list[_Waiter]:
        """The next rows to write, those whose request already gave up (answered 503) left out."""
        batch: list[_Waiter] = []
        while self._queue and len(batch) < self._max_batch:
            waiter = self._queue.popleft()
            if not waiter.cancelled:
                batch.append(waiter)
        return batch

    def _settle(self, batch: list[_Waiter], results: list, started: float) -> None:
        """Give each waiter its outcome (not yet woken) and measure the batch."""
        took = time.monotonic() - started
        self._batch_seconds = took if not self._batch_seconds else 0.7 * self._batch_seconds + 0.3 * took
        if all(isinstance(r, Exception) for r in results):
            self.last_failure = time.monotonic()
        else:
            self.last_commit = time.monotonic()
        for w, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                w.error = result
            else:
                w.result = result
        # Before the answers: a delivery answered 200 has its line (a failed row's error is
        # logged where its request is answered).
        log_kept([Kept(w.row, w.result, w.via, w.request_id) for w in batch if w.result is not None])


class InboxWriter(Pacing):
    """The writer on a thread of its own, with Django's connection: for the Django view's
    threads, and for an event loop no ``loop_writer`` serves (SQLite, tests without a server)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cv = threading.Condition()
        self._pid: int | None = None  # the thread belongs to the process that started it (gunicorn forks)
        self._thread: threading.Thread | None = None
        self._stopping = False

    def store(self, row: InboxRow, via: str = "webhook") -> Stored:
        """Block until the row is committed (or refused); raise DatabaseError on failure.
        ``via``: the channel, for the commit's log line."""
        waiter = _ThreadWaiter(row, via)
        self._put(waiter)
        if not waiter.done.wait(self._timeout):
            self._give_up(waiter)
        return self._outcome(waiter)

    async def astore(self, row: InboxRow, via: str = "webhook") -> Stored:
        waiter = AsyncWaiter(row, via)
        self._put(waiter)
        return await self._awaited(waiter)

    def health(self) -> dict:
        with self._cv:  # the queue, as the thread changes it
            return super().health()

    def warm(self) -> None:
        """Start the thread and open its database connection now, before the first delivery
        would pay for both. A database that is down is not an error here: the first insert
        reconnects (and its delivery gets a 503 until the database is back)."""
        with self._cv:
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._start(connect=True)

    def _give_up(self, waiter: _ThreadWaiter | AsyncWaiter) -> None:
        with self._cv:  # the thread reads ``cancelled`` as it takes a batch
            super()._give_up(waiter)

    def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued, close the thread's connection and stop the thread."""
        with self._cv:
            thread = self._thread if self._pid == os.getpid() else None
            self._stopping = True
            self._cv.notify()
        if thread is not None:
            thread.join(timeout)

    def _put(self, waiter: _Waiter) -> None:
        with self._cv:
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._start()
            if self._behind(waiter.enqueued):
                self.refused += 1
                raise Overloaded("the inbox writer is behind")
            self._queue.append(waiter)
            self._cv.notify()

    def _start(self, connect: bool = False) -> None:
        if self._pid != os.getpid():
            self._queue.clear()  # a parent process's waiters are not ours to answer
        self._pid, self._stopping = os.getpid(), False
        self._thread = threading.Thread(target=self._run, args=(connect,), name="inbox-writer", daemon=True)
        self._thread.start()

    def _run(self, connect: bool = False) -> None:
        try:
            if connect:
                try:
                    connection.ensure_connection()
                except DatabaseError as exc:
                    log.warning("inbox writer: no database connection yet (%s)", type(exc).__name__)
            while True:
                with self._cv:
                    self._cv.wait_for(lambda: self._queue or self._stopping)
                    if not self._queue:
                        return
                    batch = self._next_batch()
                if batch:
                    self._write(batch)
        finally:
            connection.close()

    def _write(self, batch: list[_Waiter]) -> None:
        rows = [w.row for w in batch]
        started = time.monotonic()
        try:
            results = _insert_reconnecting(rows)
        except Exception as exc:
            results = _after_failure(rows, exc)
        self._settle(batch, results, started)
        by_loop: dict[asyncio.AbstractEventLoop, list[AsyncWaiter]] = defaultdict(list)
        for w in batch:
            if isinstance(w, AsyncWaiter):
                by_loop[w.loop].append(w)
            else:
                w.done.set()  # type: ignore[attr-defined]  # a _ThreadWaiter
        for loop, waiters in by_loop.items():  # one wake-up per loop, not per request
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(wake, waiters)


def _insert_reconnecting(rows: list[InboxRow]) -> list[Stored]:
    try:
        return insert_rows(rows)
    except DatabaseError:
        if connection.connection is None or connection.is_usable():
            raise
    # The server dropped the connection (restart, idle timeout): reconnect once. Safe to
    # repeat: a row that did commit before the drop now counts as a duplicate.
    connection.close()
    return insert_rows(rows)


def _after_failure(rows: list[InboxRow], exc: Exception) -> list:
    if not isinstance(exc, DatabaseError):
        log.exception("inbox insert of %d event(s) failed", len(rows))
        return [DatabaseError(f"inbox writer: {type(exc).__name__}")] * len(rows)
    log.warning("inbox insert of %d event(s) failed: %s", len(rows), type(exc).__name__)
    if len(rows) > 1 and connection.connection is not None and connection.is_usable():
        # The database refused a row, not the connection: one bad row must not refuse
        # its neighbours, so each row gets its own try.
        return [_insert_alone(row) for row in rows]
    return [exc] * len(rows)


def _insert_alone(row: InboxRow) -> Stored | DatabaseError:
    try:
        return insert_rows([row])[0]
    except DatabaseError as exc:
        log.warning("inbox insert of event %s failed: %s", row.event_id, type(exc).__name__)
        return exc


writer = InboxWriter()


class LoopServing(Protocol):
    """What an event loop's callers ask of their writer (``serving``)."""

    async def astore(self, row: InboxRow, via: str = "webhook") -> Stored: ...
    def health(self) -> dict: ...
    def refuses_now(self) -> bool: ...


# The writers that servers attached to their event loops (``loop_writer.serve``).
_on_loop: dict[asyncio.AbstractEventLoop, LoopServing] = {}


def serving() -> LoopServing:
    """The writer for the calling code: the one a server attached to the running event loop,
    else this process's thread writer (a thread, SQLite, a test without a server)."""
    if not _on_loop:
        return writer
    try:
        return _on_loop.get(asyncio.get_running_loop(), writer)
    except RuntimeError:  # no running loop: a thread
        return writer


def attach(loop: asyncio.AbstractEventLoop, loop_writer: LoopServing) -> None:
    """``loop_writer`` serves ``loop``'s deliveries from now on."""
    _on_loop[loop] = loop_writer


def detach(loop: asyncio.AbstractEventLoop) -> None:
    """The thread writer serves ``loop``'s deliveries again."""
    _on_loop.pop(loop, None)
