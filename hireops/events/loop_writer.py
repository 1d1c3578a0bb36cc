"""The inbox writer on a server's event loop: PostgreSQL through psycopg's async connection.

The ingest server and the listener wait for their deliveries' commits on one event loop. The
thread writer (``inbox.InboxWriter``) commits on a thread of its own and hands each batch back
and forth with a lock, a condition and a wake-up of the loop; on a 2-core machine those
hand-offs and the thread's turns at the GIL were a sixth of the ingest server's CPU and much of
the listener's time from an event to its acknowledgement (docs/benchmarks.md). Here the loop
sends the batch's statement itself and goes on serving while PostgreSQL writes it.

The rules are the thread writer's (``inbox.Pacing``): one batch at a time, in the order the
deliveries came (the rows' ids follow their commits); a delivery that arrives alone is written at
once, and those that arrive while a batch is being written go into the next; the queue is bounded
by size, age and pace (``Overloaded``); a waiter gives up after ``COMMIT_TIMEOUT`` and is skipped
if not yet taken; a dropped connection is replaced once; a refused batch is tried row by row;
duplicates are counted and tenants recorded after the insert, never refusing a delivery; one log
line a commit. Its connection is Django's parameters (``OPTIONS``, the prepare threshold, the
role) on a connection of its own, in autocommit: each statement commits by itself.

``start`` attaches a writer to the running loop for as long as the server runs (``inbox.serving``
finds it); on SQLite, which has no async driver, it attaches none and the thread writer serves.
"""

import asyncio
import logging
import time

import psycopg
from django.db import connection
from django.db import utils as db
from django.utils import timezone
from psycopg import sql

from hireops.tenants.services import seen_recorded, seen_upsert

from . import inbox
from .inbox import InboxRow, Overloaded, Stored

log = logging.getLogger(__name__)

# Django's exceptions, most specific first, named as psycopg names its own (what Django's
# DatabaseErrorWrapper raises for each).
_DJANGO_ERRORS = (
    db.DataError,
    db.OperationalError,
    db.IntegrityError,
    db.InternalError,
    db.ProgrammingError,
    db.NotSupportedError,
    db.DatabaseError,
)


def as_django(exc: Exception) -> db.DatabaseError:
    """The ``DatabaseError`` the callers handle, for whatever the insert raised; a psycopg
    error stays its cause (its SQLSTATE is what gets logged, never its message)."""
    for cls in _DJANGO_ERRORS:
        if isinstance(exc, getattr(psycopg, cls.__name__)):
            error = cls(*exc.args)
            break
    else:
        error = db.DatabaseError(f"inbox writer: {type(exc).__name__}")
    error.__cause__ = exc
    return error


def connection_params() -> dict:
    """Django's parameters for the default database (host, credentials, OPTIONS, the prepare
    threshold), for a psycopg connection of one's own."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)  # Django's cursor classes are synchronous
    return params


async def connect() -> psycopg.AsyncConnection:
    """A connection with Django's parameters for the default database, in autocommit."""
    conn = await psycopg.AsyncConnection.connect(**connection_params(), autocommit=True)
    role = connection.settings_dict["OPTIONS"].get("assume_role")
    if role:  # as Django's own connections do
        await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    return conn


class LoopWriter(inbox.Pacing):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: psycopg.AsyncConnection | None = None
        self._writing: asyncio.Task[None] | None = None  # the task writing batches while there are any
        self._sql = inbox.insert_sql("postgresql", 0)

    async def open(self) -> None:
        """Bind to the running loop and connect, before the first delivery would pay for it. A
        database that is down is not an error here: the first batch connects (and its
        deliveries get a 503 until the database is back)."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._connection()
        except psycopg.Error as exc:
            log.warning("inbox writer: no database connection yet (%s)", type(exc).__name__)

    async def astore(self, row: InboxRow, via: str = "webhook") -> Stored:
        """Wait until the row is committed (or refused); raise DatabaseError on failure."""
        waiter = inbox.AsyncWaiter(row, via)
        if self._behind(waiter.enqueued):
            self.refused += 1
            raise Overloaded("the inbox writer is behind")
        self._queue.append(waiter)
        if self._writing is None:
            # Its first step runs after what this turn of the loop already scheduled: the rest of
            # a burst read in this turn joins the first batch.
            self._writing = asyncio.get_running_loop().create_task(self._write_all())
        return await self._awaited(waiter)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Finish what is queued and close the connection. Deliveries from now on go to the
        thread writer."""
        if self._loop is not None:
            inbox.detach(self._loop)
        if self._writing is not None:
            await asyncio.wait({self._writing}, timeout=timeout)
        if self._conn is not None:
            await self._conn.close()

    async def _write_all(self) -> None:
        try:
            while batch := self._next_batch():
                await self._write(batch)
        finally:
            self._writing = None

    async def _write(self, batch: list) -> None:
        rows = [w.row for w in batch]
        started = time.monotonic()
        try:
            results = await self._insert_reconnecting(rows)
        except Exception as exc:
            results = await self._after_failure(rows, exc)
        self._settle(batch, results, started)
        inbox.wake(batch)

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = await connect()
        return self._conn

    def _dropped(self) -> bool:
        return self._conn is not None and (self._conn.broken or self._conn.closed)

    async def _insert_reconnecting(self, rows: list[InboxRow]) -> list[Stored]:
        try:
            return await self._insert(rows)
        except psycopg.Error:
            if not self._dropped():
                raise
        # The server dropped the connection (restart, idle timeout): reconnect once. Safe to
        # repeat: a row that did commit before the drop now counts as a duplicate.
        await self._conn.close()  # type: ignore[union-attr]  # _dropped: there is one
        self._conn = None
        return await self._insert(rows)

    async def _insert(self, rows: list[InboxRow]) -> list[Stored]:
        conn = await self._connection()
        first = inbox.unique_rows(rows)
        unique = [rows[i] for i in first.values()]
        cursor = await conn.execute(self._sql, inbox.insert_params("postgresql", unique))
        inserted = {event_id: pk for pk, event_id in await cursor.fetchall()}
        results = inbox.outcomes(rows, first, inserted)
        await self._bookkeeping(conn, rows, results)
        return results

    async def _bookkeeping(self, conn: psycopg.AsyncConnection, rows: list[InboxRow], results: list) -> None:
        """What the thread writer's ``insert_rows`` does after its insert, on this connection:
        a failure is logged and never refuses a delivery (its row is stored)."""
        repeats = inbox.repeats(rows, results)
        if repeats:
            try:
                await conn.execute(*inbox.count_duplicates_statement(repeats, timezone.now()))
            except psycopg.Error as exc:
                n = sum(repeats.values())
                log.warning("could not count %d duplicate deliveries: %s", n, type(exc).__name__)
        upsert = seen_upsert(inbox.new_tenants(rows, results))
        if upsert is not None:
            try:
                await conn.execute(upsert.sql, upsert.params)
            except psycopg.Error as exc:
                log.error("could not record the tenants of stored events: %s", type(exc).__name__)
            else:
                seen_recorded(upsert)

    async def _after_failure(self, rows: list[InboxRow], exc: Exception) -> list:
        if not isinstance(exc, psycopg.Error):
            log.exception("inbox insert of %d event(s) failed", len(rows))
            return [as_django(exc)] * len(rows)
        log.warning("inbox insert of %d event(s) failed: %s", len(rows), type(exc).__name__)
        if len(rows) > 1 and self._conn is not None and not self._dropped():
            # The database refused a row, not the connection: one bad row must not refuse
            # its neighbours, so each row gets its own try.
            return [await self._insert_alone(row) for row in rows]
        return [as_django(exc)] * len(rows)

    async def _insert_alone(self, row: InboxRow) -> Stored | db.DatabaseError:
        try:
            return (await self._insert([row]))[0]
        except psycopg.Error as exc:
            log.warning("inbox insert of event %s failed: %s", row.event_id, type(exc).__name__)
            return as_django(exc)


async def start() -> LoopWriter | None:
    """A writer for the running loop's deliveries, connected and attached (None on a database
    without an async driver: the thread writer serves). ``aclose`` it when the server stops."""
    if connection.vendor != "postgresql":
        return None
    writer = LoopWriter()
    await writer.open()
    inbox.attach(asyncio.get_running_loop(), writer)
    return writer
