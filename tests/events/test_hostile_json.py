"""Deeply nested JSON, as a hostile sender posts it: a 400 (the long connection: a failed
acknowledgement), a row in Rejected deliveries, nothing stored, and every receiver still
taking the next event. Through the Django view, the ingest server under gunicorn, and
``manage.py feishu_listen`` over the sandbox's long connection; plain and encrypted."""

import json
import threading
import time

import pytest
import requests

from hireops.events.models import FeishuEvent, RejectedDelivery
from hireops.events.rejection_recorder import recorder
from hireops.events.verify import MAX_DEPTH, Kind
from hireops.feishu.longconn import protocol

from .payloads import ENCRYPT_KEY, TOKEN, eco_account_event, lark_encrypt, lark_sign, signed

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/feishu/events/"
BRACKETS = b"[" * 100_000  # what made the parser raise RecursionError: a 500 before


def nested(depth: int) -> dict:
    """A Feishu event whose payload nests ``depth`` levels: valid JSON, well under Python's
    recursion limit, far beyond any event Feishu sends."""
    inner = "x"
    for _ in range(depth - 2):
        inner = {"a": inner}
    return eco_account_event(custom_field_list=inner)


def signed_plain_text(text: str) -> tuple[bytes, dict]:
    """A body the sender encrypts and signs with the right key: only its content is hostile."""
    body = json.dumps({"encrypt": lark_encrypt(text)}).encode()
    headers = {"X-Lark-Request-Timestamp": str(int(time.time())), "X-Lark-Request-Nonce": "n-1"}
    headers["X-Lark-Signature"] = lark_sign(*headers.values(), ENCRYPT_KEY, body)
    return body, headers


HOSTILE = {
    "brackets": lambda: (BRACKETS, {}),
    "deep object": lambda: signed(nested(MAX_DEPTH + 1), encrypt=False),
    "encrypted brackets": lambda: signed_plain_text("[" * 100_000),
    "encrypted deep object": lambda: signed(nested(MAX_DEPTH + 1)),
}


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY  # the servers started here inherit them
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


@pytest.fixture(autouse=True)
def fresh_recorder():
    assert recorder.flush()
    recorder.reset()
    yield
    assert recorder.flush()
    recorder.reset()


def rows_when(count: int, timeout: float = 10.0) -> list[RejectedDelivery]:
    """The rejected deliveries once ``count`` are there (another process writes them)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = list(RejectedDelivery.objects.order_by("id"))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


@pytest.mark.parametrize("make", list(HOSTILE.values()), ids=list(HOSTILE))
def test_the_django_view_answers_400_and_records_it(client, make):
    body, headers = make()
    resp = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert resp.status_code == 400
    assert resp.json()["msg"].endswith(f"nests deeper than {MAX_DEPTH} levels")
    assert recorder.flush()
    [row] = RejectedDelivery.objects.all()
    assert (row.kind, row.status, row.reason) == (Kind.TOO_DEEP, 400, resp.json()["msg"])
    assert row.body_size == len(body) and row.hint
    assert not FeishuEvent.objects.exists()

    good, good_headers = signed(eco_account_event(event_id="evt-after-hostile"))
    after = client.post(URL, data=good, content_type="application/json", headers=good_headers)
    assert after.status_code == 200 and FeishuEvent.objects.get().event_id == "evt-after-hostile"


def test_an_event_nested_as_deep_as_allowed_is_stored(client):
    body, headers = signed(nested(MAX_DEPTH))
    assert client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 200
    assert FeishuEvent.objects.count() == 1 and not RejectedDelivery.objects.exists()


def test_the_ingest_server_answers_400_and_records_it(ingest_server):
    for make in HOSTILE.values():
        body, headers = make()
        resp = requests.post(ingest_server, data=body, headers=headers, timeout=10)
        assert resp.status_code == 400, (resp.status_code, resp.text, ingest_server.log()[-3000:])
        assert "nests deeper than" in resp.json()["msg"]
    rows = rows_when(len(HOSTILE))
    assert [(r.kind, r.status) for r in rows] == [(Kind.TOO_DEEP, 400)] * len(HOSTILE)
    assert {r.remote_addr for r in rows} == {"127.0.0.1"}
    assert "Traceback" not in ingest_server.log() and "RecursionError" not in ingest_server.log()

    good, headers = signed(eco_account_event(event_id="evt-srv-after-hostile"))
    assert requests.post(ingest_server, data=good, headers=headers, timeout=10).status_code == 200
    assert list(FeishuEvent.objects.values_list("event_id", flat=True)) == ["evt-srv-after-hostile"]


# --- The long connection ------------------------------------------------------------------------


@pytest.fixture
def listener(sandbox, settings, start_listener):
    settings.FEISHU_EVENT_TRANSPORT = "long_connection"
    sandbox.configure(delivery="long_connection", ack_timeout=5.0)
    started = start_listener()
    deadline = time.monotonic() + 15
    while not sandbox.longconn_connections():
        assert time.monotonic() < deadline, started.log()[-3000:]
        time.sleep(0.1)
    return started


def deliver_raw(sandbox, body: bytes) -> dict:
    """Hand ``body`` to the connected listener as Feishu's long connection would; the outcome
    (the acknowledgement's code) once it is decided."""
    done, outcome = threading.Event(), {}

    def on_done(result):
        outcome.update(result)
        done.set()

    sandbox.server.longconn.deliver(body, ack_timeout=10.0, fragment_bytes=32768, on_done=on_done)
    assert done.wait(15)
    return outcome


def test_the_listener_acknowledges_it_as_failed_and_records_it(sandbox, listener):
    bodies = [
        BRACKETS,
        json.dumps(nested(MAX_DEPTH + 1)).encode(),
        json.dumps({"encrypt": lark_encrypt("[" * 100_000)}).encode(),  # should Feishu ever encrypt
    ]
    for body in bodies:
        outcome = deliver_raw(sandbox, body)
        assert (outcome["status"], outcome["error"]) == (
            protocol.ACK_FAILED,
            f"ack code {protocol.ACK_FAILED}",
        )
    rows = rows_when(len(bodies))
    assert [(r.kind, r.remote_addr) for r in rows] == [(Kind.TOO_DEEP, "long connection")] * len(bodies)
    assert "Traceback" not in listener.log() and "RecursionError" not in listener.log()
    assert not FeishuEvent.objects.exists()

    good = eco_account_event(event_id="evt-longconn-after-hostile")
    assert deliver_raw(sandbox, json.dumps(good).encode())["status"] == protocol.ACK_OK
    assert FeishuEvent.objects.filter(event_id="evt-longconn-after-hostile").exists()
