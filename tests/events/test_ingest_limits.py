"""What may arrive before a request's body on the ingest server, as a hostile sender tries it
(hireops.events.ingest_worker): the request line and the headers within gunicorn's limits, a
request past one answered 414 or 431 and its connection closed before any application runs,
and everyone else served meanwhile. llhttp, which parses for uvicorn, keeps no such limit: a
header arriving without end would be held in memory until the read deadline."""

import socket
import time
from urllib.parse import urlsplit

import pytest

from hireops.events import ingest_worker
from hireops.events.models import FeishuEvent

from .payloads import TOKEN, eco_account_event, signed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture(autouse=True)
def secrets(settings):
    from .payloads import ENCRYPT_KEY

    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY  # the server inherits these (subprocess_env)
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def exchange(port: int, *parts: bytes) -> bytes:
    """Send ``parts`` on a fresh connection (stopping if the server closes it) and read until
    the server closes; what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for part in parts:
            try:
                conn.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # refused and closed while we were still sending
        answer = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
        return answer


def request(target: bytes = b"/feishu/events/", headers: bytes = b"") -> bytes:
    return b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers


HOSTILE = {
    "a request line past 4094 bytes": (
        [request(b"/feishu/events/?" + b"a" * 5000) + b"\r\n"],
        b"HTTP/1.1 414 ",
    ),
    "101 header fields": (
        [request(headers=b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n")],
        b"HTTP/1.1 431 ",
    ),
    "a header field past 8190 bytes": (
        [request(headers=b"X-Big: " + b"a" * 9000 + b"\r\n\r\n")],
        b"HTTP/1.1 431 ",
    ),
    # One field that never ends, sent in pieces: httptools holds it whole until its end, so
    # the bytes are counted as they arrive.
    "a header field without end": (
        [request(headers=b"X-Endless: ")] + [b"a" * 65536] * 16,
        b"HTTP/1.1 431 ",
    ),
}


def test_what_arrives_before_the_body_is_bounded_and_refused_before_any_application(start_ingest_server):
    server = start_ingest_server()
    port = urlsplit(server).port
    for what, (parts, status) in HOSTILE.items():
        answer = exchange(port, *parts)
        assert answer.startswith(status), (what, answer[:200])
        assert b"Connection: close" in answer, what

    # At the limits, a delivery is served: exactly as many fields as they allow, the padding ones
    # each exactly as large. Written by hand: a client library adds headers of its own (an SDK's
    # tracing headers, once it was started in the process), which would move the count.
    body, headers = signed(eco_account_event(event_id="evt-within-the-limits"))
    fields = {
        **headers,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    names = [f"X-Pad-{i}" for i in range(ingest_worker.LIMIT_REQUEST_FIELDS - 1 - len(fields))]  # 1: Host
    fields |= {n: "p" * (ingest_worker.LIMIT_REQUEST_FIELD_SIZE - len(n) - 2) for n in names}
    head = b"".join(f"{name}: {value}\r\n".encode() for name, value in fields.items())
    answer = exchange(port, request(headers=head + b"\r\n") + body)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert FeishuEvent.objects.filter(event_id="evt-within-the-limits").exists()
    log = server.log()
    assert "request refused before its body: request line too long" in log
    assert "request refused before its body: too many request headers" in log
    assert "request refused before its body: request header too large" in log
    assert "aaaa" not in log  # nothing the sender sent is logged


def test_the_limits_are_gunicorns_own():
    from gunicorn.config import Config

    config = Config()
    assert config.limit_request_line == ingest_worker.LIMIT_REQUEST_LINE
    assert config.limit_request_fields == ingest_worker.LIMIT_REQUEST_FIELDS
    assert config.limit_request_field_size == ingest_worker.LIMIT_REQUEST_FIELD_SIZE
