"""The inbox writer on a server's event loop (PostgreSQL): the thread writer's rules, kept.

Each test runs a real event loop with the writer's own connection to the test database, so the
tests are transactional (the writer commits what it writes)."""

import asyncio
import contextlib
import logging

import psycopg
import pytest
from django.db import DatabaseError, DataError, OperationalError, connection, connections

from hireops.events import inbox, loop_writer
from hireops.events.inbox import Overloaded, StoreTimeout
from hireops.events.loop_writer import LoopWriter
from hireops.events.models import FeishuEvent
from hireops.events.services import event_row
from hireops.events.verify import Envelope
from hireops.tenants.models import Tenant
from hireops.tenants.services import forget_seen
from tests.events.refusals import refusing

pytestmark = pytest.mark.django_db(transaction=True)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="psycopg's async connection: SQLite keeps the thread writer"
)


def row(event_id, tenant_key="", payload=None):
    envelope = Envelope(event_id, "2.0", "hire.unknown_v1", "cli", tenant_key, "", {"header": {}})
    made = event_row(envelope)
    return made if payload is None else made._replace(payload=payload)


def run(scenario, **kwargs):
    """``scenario(writer)`` on a fresh loop with a fresh writer, closed afterwards."""

    async def main():
        writer = LoopWriter(**kwargs)
        await writer.open()
        try:
            return await scenario(writer)
        finally:
            await writer.aclose()

    return asyncio.run(main())


@contextlib.contextmanager
def table_locked():
    """Another connection holds the events table's write lock: the writer's INSERT waits until
    ``release()``. A psycopg connection of its own: it is released from inside the loop."""
    other = psycopg.connect(**loop_writer.connection_params())
    other.execute(f"LOCK TABLE {FeishuEvent._meta.db_table} IN EXCLUSIVE MODE")
    try:
        yield other.rollback
    finally:
        other.rollback()
        other.close()


async def until(condition, timeout=5.0):
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def stored():
    return dict(FeishuEvent.objects.values_list("event_id", "duplicate_count"))


def test_start_attaches_a_writer_to_the_loop_on_postgresql_only():
    """``inbox.serving`` finds the loop's writer inside the loop and the thread writer outside
    it (a thread, another loop) and after the writer closes; on SQLite nothing is attached."""

    async def main():
        attached = await loop_writer.start()
        if connection.vendor != "postgresql":
            assert attached is None and inbox.serving() is inbox.writer
            return
        assert inbox.serving() is attached
        assert await asyncio.to_thread(inbox.serving) is inbox.writer
        await attached.aclose()
        assert inbox.serving() is inbox.writer and not inbox._on_loop

    asyncio.run(main())


@postgres_only
def test_a_burst_commits_in_one_statement_in_arrival_order_with_its_duplicates_counted(caplog):
    caplog.set_level(logging.INFO, logger="hireops.events.inbox")

    async def scenario(writer):
        await writer.astore(row("evt-old"))
        caplog.clear()
        ids = ["evt-1", "evt-old", "evt-2", "evt-1", "evt-3"]
        return await asyncio.gather(*(writer.astore(row(e)) for e in ids))

    outcomes = run(scenario)
    assert [o.created for o in outcomes] == [True, False, True, False, True]
    pks = [o.pk for o in outcomes if o.created]
    assert pks == sorted(pks)  # the ids follow the order the deliveries came in
    assert stored() == {"evt-old": 1, "evt-1": 1, "evt-2": 0, "evt-3": 0}
    lines = [r.getMessage() for r in caplog.records if "committed" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("feishu events committed: 3 stored, 2 duplicate")


@postgres_only
def test_a_full_queue_refuses_at_once_and_what_was_queued_commits():
    async def scenario(writer):
        with table_locked() as release:
            first = asyncio.ensure_future(writer.astore(row("evt-1")))
            await until(lambda: writer._writing is not None and not writer._queue)  # taken, waiting
            queued = [asyncio.ensure_future(writer.astore(row(f"evt-{i}"))) for i in (2, 3)]
            await until(lambda: len(writer._queue) == 2)
            with pytest.raises(Overloaded):
                await writer.astore(row("evt-4"))
            health = writer.health()
            assert health["ok"] is False and health["detail"] == "behind: refusing deliveries"
            release()
            outcomes = await asyncio.gather(first, *queued)
        return outcomes, writer.refused, writer.health()

    outcomes, refused, health = run(scenario, timeout=20, queue_max=2, queue_max_age=60)
    assert all(o.created for o in outcomes)
    assert set(stored()) == {"evt-1", "evt-2", "evt-3"}
    assert refused == 1 and health["ok"] is True


@postgres_only
def test_a_request_that_gave_up_is_not_stored_later():
    async def scenario(writer):
        with table_locked() as release:
            first = asyncio.ensure_future(writer.astore(row("evt-x")))
            await until(lambda: writer._writing is not None and not writer._queue)
            with pytest.raises(StoreTimeout):  # its 503 is answered while the lock holds
                await writer.astore(row("evt-y"))
            release()
            with pytest.raises(StoreTimeout):
                await first
        return await writer.astore(row("evt-z"))  # the writer goes on

    assert run(scenario, timeout=0.5, queue_max=1000, queue_max_age=60).created
    # evt-x was being written when its request gave up: it may commit (Feishu's retry is then a
    # duplicate). evt-y was still queued: skipped, so its 503 meant "not stored".
    assert "evt-y" not in stored() and "evt-z" in stored()


@postgres_only
def test_a_dropped_connection_is_replaced_and_the_batch_written_once():
    async def scenario(writer):
        await writer.astore(row("evt-before"))
        pid = writer._conn.info.backend_pid
        with psycopg.connect(**loop_writer.connection_params(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        after = await writer.astore(row("evt-after"))
        return pid, writer._conn.info.backend_pid, after, writer.health()

    old, new, after, health = run(scenario)
    assert new != old and after.created and health["ok"] is True
    assert stored() == {"evt-before": 0, "evt-after": 0}


@postgres_only
def test_a_row_the_database_refuses_does_not_refuse_its_neighbours(caplog):
    """One statement a batch; when the database refuses it for one row (a payload that is not
    JSON), each row is tried alone: the others commit, the refused one gets Django's error with
    PostgreSQL's code as its cause, and the log names the error's type, never the payload."""

    async def scenario(writer):
        rows = [row("evt-good-1"), row("evt-bad", payload='{"mobile": "13800000000"'), row("evt-good-2")]
        return await asyncio.gather(*(writer.astore(r) for r in rows), return_exceptions=True)

    good_1, bad, good_2 = run(scenario)
    assert good_1.created and good_2.created
    assert isinstance(bad, DataError) and bad.__cause__.sqlstate == "22P02"
    assert set(stored()) == {"evt-good-1", "evt-good-2"}
    assert "13800000000" not in caplog.text
    assert "inbox insert of event evt-bad failed: InvalidTextRepresentation" in caplog.text


@postgres_only
def test_an_unreachable_database_refuses_says_so_and_recovers(monkeypatch, caplog):
    settings_dict = connections["default"].settings_dict

    async def scenario(writer):
        monkeypatch.setitem(settings_dict, "PORT", "9")  # no database listens there
        with pytest.raises(OperationalError) as refused:
            await writer.astore(row("evt-down"))
        down = writer.health()
        monkeypatch.undo()
        back = await writer.astore(row("evt-back"))
        return refused.value, down, back, writer.health()

    async def main():
        writer = LoopWriter()
        monkeypatch.setitem(settings_dict, "PORT", "9")
        await writer.open()  # down at start: not an error, the first batch connects
        monkeypatch.undo()
        try:
            return await scenario(writer)
        finally:
            await writer.aclose()

    refused, down, back, up = asyncio.run(main())
    assert isinstance(refused, DatabaseError) and isinstance(refused.__cause__, psycopg.OperationalError)
    assert down == {"ok": False, "detail": "cannot commit", "queued": 0, "refused": 0}
    assert back.created and up["ok"] is True
    assert "no database connection yet (OperationalError)" in caplog.text
    assert set(stored()) == {"evt-back"}


@postgres_only
def test_tenants_are_recorded_after_the_insert_and_a_failed_count_refuses_nothing(caplog):
    forget_seen()

    def deliver():
        return run(lambda writer: writer.astore(row("evt-t", tenant_key="tenant-new")))

    first = deliver()
    with refusing("UPDATE"):  # the duplicates' count fails; the delivery is still kept
        again = deliver()
    assert first.created and not again.created
    assert Tenant.objects.filter(tenant_key="tenant-new").exists()
    assert stored() == {"evt-t": 0}
    assert "could not count 1 duplicate deliveries: RaiseException" in caplog.text


@postgres_only
def test_closing_finishes_what_is_queued_then_closes_the_connection():
    async def main():
        writer = await loop_writer.start()
        pending = [asyncio.ensure_future(writer.astore(row(f"evt-{i}"))) for i in range(5)]
        await asyncio.sleep(0)  # queued, not yet written
        await writer.aclose()
        assert all(task.done() and task.result().created for task in pending)
        return writer

    writer = asyncio.run(main())
    assert writer._conn.closed and len(stored()) == 5
