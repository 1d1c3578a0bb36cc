"""The inbox writer past what it can commit: refuse at once, never store in vain."""

import contextlib
import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections

from hireops.events.inbox import InboxWriter, Overloaded, StoreTimeout
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import event_row
from hireops.events.verify import Envelope
from tests.events.refusals import refusing

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def writes_blocked():
    """Another connection holds the events table's write lock: the writer's INSERT waits."""
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {FeishuEvent._meta.db_table} IN EXCLUSIVE MODE")
            else:  # SQLite: take the database's write lock (transaction_mode IMMEDIATE)
                cursor.execute(f"DELETE FROM {FeishuEvent._meta.db_table} WHERE id = -1")  # noqa: S608
        yield
    finally:
        other.rollback()
        other.close()


def row_envelope(event_id):
    return Envelope(event_id, "2.0", "hire.unknown_v1", "cli", "", "", {"header": {}})


def row(event_id):
    return event_row(row_envelope(event_id))


def store_in_thread(writer, event_id, outcomes):
    def run():
        try:
            outcomes[event_id] = writer.store(row(event_id))
        except Exception as exc:
            outcomes[event_id] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_a_full_queue_refuses_at_once_and_what_was_queued_commits():
    writer = InboxWriter(timeout=20, queue_max=2, queue_max_age=60)
    outcomes = {}
    try:
        with writes_blocked():
            first = store_in_thread(writer, "evt-1", outcomes)  # taken by the writer, waits on the lock
            wait_for(lambda: writer.health()["queued"] == 0 and writer._thread.is_alive())
            time.sleep(0.2)
            waiting = [store_in_thread(writer, f"evt-{i}", outcomes) for i in (2, 3)]
            wait_for(lambda: writer.health()["queued"] == 2)
            started = time.monotonic()
            with pytest.raises(Overloaded):
                writer.store(row("evt-4"))
            # Refused at once, not after waiting out the writer's 20 s: a quarter of it tells the
            # two apart on any machine's load.
            assert time.monotonic() - started < 5
            health = writer.health()
            assert health["ok"] is False and health["detail"] == "behind: refusing deliveries"
        for thread in [first, *waiting]:
            thread.join(20)
    finally:
        writer.close()
    assert all(outcomes[e].created for e in ("evt-1", "evt-2", "evt-3")), outcomes
    assert set(FeishuEvent.objects.values_list("event_id", flat=True)) == {"evt-1", "evt-2", "evt-3"}
    assert writer.refused == 1 and writer.health()["ok"] is True


def test_a_row_waiting_too_long_makes_the_next_one_refused():
    writer = InboxWriter(timeout=20, queue_max=1000, queue_max_age=0.3)
    outcomes = {}
    try:
        with writes_blocked():
            first = store_in_thread(writer, "evt-a", outcomes)
            time.sleep(0.2)
            second = store_in_thread(writer, "evt-b", outcomes)  # queued behind the blocked batch
            wait_for(lambda: writer.health()["queued"] == 1)
            time.sleep(0.4)
            with pytest.raises(Overloaded):
                writer.store(row("evt-c"))
        first.join(20)
        second.join(20)
    finally:
        writer.close()
    assert FeishuEvent.objects.filter(event_id__in=["evt-a", "evt-b"]).count() == 2
    assert not FeishuEvent.objects.filter(event_id="evt-c").exists()


def test_a_request_that_gave_up_is_not_stored_later():
    writer = InboxWriter(timeout=0.5, queue_max=1000, queue_max_age=60)
    outcomes = {}
    try:
        with writes_blocked():
            first = store_in_thread(writer, "evt-x", outcomes)
            time.sleep(0.1)
            with pytest.raises(StoreTimeout):  # its 503 is answered while the lock holds
                writer.store(row("evt-y"))
            first.join(5)
        writer.store(row("evt-z"))  # the writer goes on
    finally:
        writer.close()
    # evt-x was already being written when its request gave up: it may commit (Feishu's retry is
    # then a duplicate). evt-y was still queued: skipped, so its 503 meant "not stored".
    assert isinstance(outcomes["evt-x"], StoreTimeout)
    stored = set(FeishuEvent.objects.values_list("event_id", flat=True))
    assert "evt-y" not in stored and "evt-z" in stored
    assert FeishuEvent.objects.get(event_id="evt-z").status == EventStatus.IGNORED


def test_a_slow_database_makes_the_queue_refuse_before_its_rows_would_time_out(monkeypatch):
    # 5 rows per batch, 0.1 s per commit: 50 rows/s, so QUEUE_MAX_AGE = 0.5 s holds 25 rows.
    # 100 deliveries at once would wait up to 2 s, past their 1.5 s: the last ones time out.
    from hireops.events import inbox

    write = inbox._insert_reconnecting

    def slow(rows):
        time.sleep(0.1)
        return write(rows)

    monkeypatch.setattr(inbox, "_insert_reconnecting", slow)
    writer = InboxWriter(max_batch=5, timeout=1.5, queue_max=1000, queue_max_age=0.5)
    outcomes = {}
    try:
        writer.store(row("evt-first"))  # measures a batch
        threads = [store_in_thread(writer, f"evt-{i}", outcomes) for i in range(100)]
        for thread in threads:
            thread.join(20)
    finally:
        writer.close()
    kinds = Counter(type(o).__name__ for o in outcomes.values())
    assert kinds["StoreTimeout"] == 0, kinds  # every delivery the writer took, it committed in time
    assert kinds["Overloaded"] > 0 and kinds["Stored"] > 0, kinds
    stored = set(FeishuEvent.objects.values_list("event_id", flat=True)) - {"evt-first"}
    assert stored == {e for e, o in outcomes.items() if not isinstance(o, Exception)}


def test_the_webhook_answers_503_with_retry_after_when_overloaded(client, settings, monkeypatch):
    from hireops.events import inbox
    from tests.events.payloads import ENCRYPT_KEY, TOKEN, eco_account_event, post_delivery, signed

    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    full = InboxWriter(queue_max=0)  # as full as a writer gets
    monkeypatch.setattr(inbox, "writer", full)
    response = post_delivery(client, *signed(eco_account_event(event_id="evt-busy")))
    assert response.status_code == 503 and response["Retry-After"] == "15"
    assert not FeishuEvent.objects.exists()
    full.close()


def test_the_sweep_queues_a_waiting_event_once_per_backoff_step(monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from hireops.events import services
    from hireops.events.inbox import insert_rows
    from tests.events.payloads import eco_account_event

    queued = []
    monkeypatch.setattr(services, "queue_events", lambda pks: queued.append(list(pks)) or len(pks))
    payload = eco_account_event()
    envelope = Envelope("evt-backlog", "2.0", "hire.eco_account.created_v1", "cli", "", "", payload)
    [stored] = insert_rows([event_row(envelope)])
    old = timezone.now() - timedelta(minutes=1)
    FeishuEvent.objects.filter(pk=stored.pk).update(received_at=old)

    assert services.events_sweep() == 1  # stored long ago, never processed: queued
    assert services.events_sweep() == 0  # still waiting behind the backlog: not queued again
    event = FeishuEvent.objects.get()
    assert event.sweeps == 1 and event.status == EventStatus.PENDING
    assert timedelta(seconds=25) < event.next_attempt_at - timezone.now() <= timedelta(seconds=30)

    FeishuEvent.objects.update(next_attempt_at=timezone.now())  # its step has passed
    assert services.events_sweep() == 1
    event.refresh_from_db()
    assert event.sweeps == 2  # the next step is longer
    assert timedelta(minutes=1) < event.next_attempt_at - timezone.now() <= timedelta(minutes=2)
    assert queued == [[stored.pk], [], [stored.pk]]


def test_an_overloaded_endpoint_refuses_before_verifying_or_decrypting_the_body(monkeypatch):
    """The refusal is decided from the writer alone: a body that would fail every check (not
    signed, not decryptable) gets the overload's 503 and Retry-After, not its 400, and nothing
    is recorded as a rejected delivery. The body is still read (and dropped) to its end."""
    import asyncio

    from hireops.events import inbox
    from hireops.events.asgi import application
    from hireops.events.models import RejectedDelivery

    full = InboxWriter(queue_max=0)  # as full as a writer gets
    monkeypatch.setattr(inbox, "writer", full)
    incoming = [
        {"type": "http.request", "body": b'{"encrypt": "not', "more_body": True},
        {"type": "http.request", "body": b' base64"}', "more_body": False},
    ]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/feishu/events/", "headers": []}
    asyncio.run(application(scope, receive, send))
    start, body = sent
    assert start["status"] == 503 and (b"retry-after", b"15") in start["headers"]
    assert b"overloaded" in body["body"] and not incoming  # answered after the body's last chunk
    assert full.refused == 1 and full.health()["refused"] == 1
    assert not RejectedDelivery.objects.exists() and not FeishuEvent.objects.exists()
    full.close()


def test_an_early_refusal_keeps_the_connection_usable(start_ingest_server):
    """The ingest server answers the refusal without the body having been read; the next
    request on the same keep-alive connection is parsed from where that body ends."""
    import http.client
    from urllib.parse import urlsplit

    from tests.events.payloads import ENCRYPT_KEY, TOKEN, eco_account_event, signed

    server = start_ingest_server(
        INBOX_QUEUE_MAX="0", FEISHU_ENCRYPT_KEY=ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN=TOKEN
    )
    url = urlsplit(server)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    for n in range(3):
        body, headers = signed(eco_account_event(event_id=f"evt-shed-{n}"))
        conn.request("POST", url.path, body=body, headers=headers)
        response = conn.getresponse()
        assert response.status == 503 and response.getheader("Retry-After") == "15"
        assert b"overloaded" in response.read()
    conn.close()
    assert not FeishuEvent.objects.exists()


def test_a_batch_commits_its_rows_by_itself_and_a_failed_duplicate_count_refuses_nothing(caplog):
    """Outside a transaction the batch's insert is one statement that commits by itself; the
    duplicates' count is written after it, and when that fails the deliveries are still kept
    (their events are stored): logged, never answered as not stored."""
    from hireops.events.inbox import insert_rows
    from hireops.events.services import event_store

    assert event_store(row_envelope("evt-counted")) is True  # through the writer's thread
    assert event_store(row_envelope("evt-counted")) is False
    assert FeishuEvent.objects.get(event_id="evt-counted").duplicate_count == 1
    with refusing("UPDATE"):
        assert event_store(row_envelope("evt-counted")) is False  # kept, not refused
        both = insert_rows([row("evt-new"), row("evt-counted")])
        assert [s.created for s in both] == [True, False]
    assert set(FeishuEvent.objects.values_list("event_id", "duplicate_count")) == {
        ("evt-counted", 1),  # the two refused counts are lost, and said so
        ("evt-new", 0),
    }
    assert caplog.text.count("could not count 1 duplicate deliveries") == 2


def test_a_batchs_duplicates_are_counted_together_each_by_its_own_repeats():
    """Every delivery of an event already stored (twice in one batch too) adds one to its count
    and stamps when; a retry storm's batch is counted in one statement on PostgreSQL, where an
    update a duplicate made a duplicate cost 2.5x a new event (docs/benchmarks.md)."""
    from django.test.utils import CaptureQueriesContext

    from hireops.events.inbox import insert_rows

    insert_rows([row("evt-a"), row("evt-b"), row("evt-untouched")])
    with CaptureQueriesContext(connection) as queries:
        outcomes = insert_rows([row("evt-a"), row("evt-new"), row("evt-a"), row("evt-b"), row("evt-new")])
    assert [s.created for s in outcomes] == [False, True, False, False, False]
    counts = dict(FeishuEvent.objects.values_list("event_id", "duplicate_count"))
    assert counts == {"evt-a": 2, "evt-b": 1, "evt-new": 1, "evt-untouched": 0}
    stamped = set(
        FeishuEvent.objects.filter(last_duplicate_at__isnull=False).values_list("event_id", flat=True)
    )
    assert stamped == {"evt-a", "evt-b", "evt-new"}
    if connection.vendor == "postgresql":
        updates = [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"]]
        assert len(updates) == 1 and "FOR UPDATE" in updates[0]  # the rows locked in id order first


def test_inside_a_callers_transaction_a_refused_duplicate_count_leaves_that_transaction_usable(caplog):
    from django.db import transaction

    from hireops.events.inbox import insert_rows

    insert_rows([row("evt-kept")])
    with refusing("UPDATE"), transaction.atomic():
        assert [s.created for s in insert_rows([row("evt-kept")])] == [False]
        assert FeishuEvent.objects.count() == 1  # the transaction still answers
    assert "could not count 1 duplicate deliveries" in caplog.text


def test_inside_a_callers_transaction_a_refused_batch_leaves_that_transaction_usable():
    """The batch commits by itself only outside a transaction; inside one (a replay, a test) it
    keeps a savepoint, so the caller can go on after a refused insert."""
    from django.db import DatabaseError, transaction

    from hireops.events.inbox import insert_rows

    with refusing("INSERT"), transaction.atomic():
        with pytest.raises(DatabaseError):
            insert_rows([row("evt-refused")])
        assert FeishuEvent.objects.count() == 0  # the transaction still answers
