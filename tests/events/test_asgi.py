"""The ASGI endpoint (what ``config.ingest`` serves), called in-process.

Served for real by gunicorn in test_ingest_server.py; here the same application is
driven directly, which reaches the paths a real client can hardly produce (a body
that streams past the limit, a client that disconnects).
"""

import asyncio
import json

import pytest
from django.db import connections

from hireops.events.asgi import application
from hireops.events.inbox import writer
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.publisher import publisher

from .payloads import ENCRYPT_KEY, TOKEN, app_ticket_event, eco_account_event, lark_encrypt, signed

PATH = "/feishu/events/"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def call(body=b"", headers=None, *, path=PATH, method="POST", chunks=None, disconnect=False):
    """Run one HTTP exchange through the ASGI app; returns (status, headers, json body)."""
    return asyncio.run(acall(body, headers, path=path, method=method, chunks=chunks, disconnect=disconnect))


async def acall(body=b"", headers=None, *, path=PATH, method="POST", chunks=None, disconnect=False):
    """``call`` on the running event loop: exchanges that run at once."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if chunks is None:
        chunks = [body]
        headers.setdefault("content-length", str(len(body)))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    if disconnect:
        incoming = [{"type": "http.disconnect"}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)
    if not sent:
        return None
    start, body_msg = sent
    return start["status"], dict(start["headers"]), json.loads(body_msg["body"])


def test_challenge_plain_and_encrypted(db):
    plain = json.dumps({"challenge": "c-1", "token": TOKEN, "type": "url_verification"})
    assert call(plain.encode())[::2] == (200, {"challenge": "c-1"})
    encrypted = json.dumps({"encrypt": lark_encrypt(plain.replace("c-1", "c-2"))})
    assert call(encrypted.encode())[::2] == (200, {"challenge": "c-2"})


@pytest.mark.django_db(transaction=True)
def test_signed_encrypted_event_is_stored_then_processed():
    body, headers = signed(app_ticket_event(ticket="tk-asgi", app_id="cli_asgi"))
    status, response_headers, answer = call(body, headers)
    assert (status, answer) == (200, {"msg": "success"})
    assert response_headers[b"content-type"] == b"application/json"
    assert publisher.flush()
    event = FeishuEvent.objects.get(event_type="app_ticket")
    assert event.status == EventStatus.PROCESSED and event.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_redelivery_is_acknowledged_and_counted():
    body, headers = signed(eco_account_event(event_id="evt-asgi-dup"))
    assert call(body, headers)[0] == 200
    assert call(body, headers)[0] == 200
    assert FeishuEvent.objects.get(event_id="evt-asgi-dup").duplicate_count == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda body, h: (body, {**h, "X-Lark-Signature": "0" * 64}), 401),
        (lambda body, h: (body, {}), 401),
        (lambda body, h: (b"{not json", {}), 400),
        (lambda body, h: (json.dumps({"encrypt": "bm90IGEgY2lwaGVydGV4dA=="}).encode(), {}), 400),
        (lambda body, h: (b"", {}), 400),
    ],
    ids=["bad-signature", "no-signature", "bad-json", "undecryptable", "empty"],
)
def test_rejected_deliveries_store_nothing(mutate, status):
    body, headers = mutate(*signed(eco_account_event()))
    got, _, answer = call(body, headers)
    assert got == status and answer["msg"]
    assert not FeishuEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_wrong_token_is_forbidden():
    body, headers = signed(eco_account_event(token="forged"))
    assert call(body, headers)[0] == 403 and not FeishuEvent.objects.exists()


# Transactional: the refusals below are recorded by the rejection recorder's thread, which
# on SQLite would wait for the write lock a test transaction holds.
def test_oversized_bodies_are_refused_declared_or_streamed(transactional_db):
    big = b"{" + b" " * (1024 * 1024) + b"}"
    assert call(big)[0] == 413
    assert call(chunks=[big[:600_000], big[600_000:]])[0] == 413  # no Content-Length


def test_other_methods_and_paths(transactional_db):  # a recorded 405, as above
    status, headers, _ = call(method="GET")
    assert status == 405 and headers[b"allow"] == b"POST"
    assert call(b"{}", path="/admin/")[0] == 404


def test_a_client_that_disconnects_gets_no_answer(db):
    assert call(disconnect=True) is None


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_answers_503_and_stores_nothing(monkeypatch):
    writer.close()  # its next connection goes to a port where no database listens
    monkeypatch.setitem(connections["default"].settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connections["default"].settings_dict, "PORT", "9")
    monkeypatch.setitem(connections["default"].settings_dict, "NAME", "/nonexistent/db.sqlite3")
    body, headers = signed(eco_account_event(event_id="evt-no-db"))
    assert call(body, headers)[::2] == (503, {"msg": "temporarily unavailable"})
    writer.close()
    monkeypatch.undo()
    assert not FeishuEvent.objects.filter(event_id="evt-no-db").exists()


def test_the_lifespan_startup_warms_the_writer_up_before_the_first_delivery(transactional_db):
    """gunicorn runs the startup before the worker takes a connection: by then the writer that
    serves the loop has its database connection (on PostgreSQL the loop writer, attached to the
    loop; elsewhere the thread writer's running thread), so the first deliveries do not pay for
    it; the shutdown closes it and detaches it."""
    from django.db import connection

    from hireops.events import inbox
    from hireops.events.inbox import InboxWriter
    from hireops.events.loop_writer import LoopWriter

    fresh = InboxWriter()
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent, warm, serving = [], [], []

    async def receive():
        if sent:  # started: look at the writer before the shutdown closes it
            serving.append(inbox.serving())
            if isinstance(serving[0], LoopWriter):
                warm.append(serving[0]._conn is not None and not serving[0]._conn.closed)
            else:
                warm.append(fresh._thread is not None and fresh._thread.is_alive())
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    import hireops.events.asgi as asgi

    original = asgi.writer
    asgi.writer = fresh
    try:
        asyncio.run(application({"type": "lifespan"}, receive, send))
    finally:
        asgi.writer = original
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert warm == [True]
    if connection.vendor == "postgresql":
        assert isinstance(serving[0], LoopWriter) and serving[0]._conn.closed
        assert fresh._thread is None  # the thread writer is not started where the loop writer serves
        assert not inbox._on_loop  # detached
    else:
        assert serving == [inbox.writer]
        assert not fresh._thread.is_alive()  # the shutdown stopped it
