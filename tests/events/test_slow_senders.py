"""Slow senders on the public ports, as production serves them: a request whose headers or body
have not arrived within ``REQUEST_READ_TIMEOUT`` is cut off, while the others are served, on
the ingest server (gunicorn and uvicorn) and on the listener's health port.

Each attacker holds one connection: it sends nothing, or a request's headers a byte at a time,
or whole headers and then a signed delivery's body a byte at a time; none of them would finish
within a minute. Before the deadline, the ingest server held them for as long as they kept
trickling (each wait for the next piece of a body was bounded at 30 s, a first request's
headers not at all).
"""

import asyncio
import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from hireops.events.models import FeishuEvent
from tests.ops.test_metrics import Counted

from .payloads import TOKEN, eco_account_event, signed

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 1.0  # REQUEST_READ_TIMEOUT of the servers under attack (the default is 5 s)
# How long an attacker may keep its connection: the deadline and a margin for a loaded 2-core
# machine, well under the 30 s and more they were held before.
HELD_AT_MOST = TIMEOUT + 6
GIVE_UP = HELD_AT_MOST + 3  # an attacker still connected then has failed the test
TRICKLE = 0.25  # seconds between an attacker's bytes


@pytest.fixture(autouse=True)
def secrets(settings):
    from .payloads import ENCRYPT_KEY

    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY  # the servers inherit these (subprocess_env)
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


@dataclass
class Held:
    seconds: float  # from connecting to the server's close
    answer: bytes  # what the server sent before closing


async def _read_to_the_end(reader) -> tuple[bytes, float]:
    answer = b""
    try:
        while chunk := await reader.read(65536):
            answer += chunk
    except ConnectionError:
        pass
    return answer, asyncio.get_running_loop().time()


async def hold(port: int, first: bytes, rest: bytes, connected: asyncio.Queue) -> Held:
    """Connect, send ``first``, then ``rest`` a byte every TRICKLE seconds, until the server
    closes the connection (or GIVE_UP seconds pass)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    reading = asyncio.ensure_future(_read_to_the_end(reader))
    try:
        writer.write(first)
        connected.put_nowait(None)
        for byte in rest:
            if (await asyncio.wait([reading], timeout=TRICKLE))[0]:
                break
            writer.write(bytes([byte]))
        await asyncio.wait([reading], timeout=max(0.0, started + GIVE_UP - loop.time()))
    finally:
        writer.close()
    if not reading.done():
        reading.cancel()
        return Held(float("inf"), b"")
    answer, closed_at = reading.result()
    return Held(closed_at - started, answer)


async def attack(port: int, senders: list[tuple[bytes, bytes]], served):
    """Every sender holds a connection; once all are connected, ``served()`` runs in a thread
    (a normal client, meanwhile). Returns what each sender saw and what ``served()`` returned."""
    connected = asyncio.Queue()
    holding = [asyncio.create_task(hold(port, first, rest, connected)) for first, rest in senders]
    for _ in senders:
        await asyncio.wait_for(connected.get(), 20)
    # On a loaded machine connecting them all can take longer than the deadline: the first
    # ones may be cut off already, at their deadline, never before it.
    early = [t.result().seconds for t in holding if t.done() and t.result().seconds < TIMEOUT * 0.9]
    assert not early, f"an attacker was let go before the deadline: {early}"
    normal = await asyncio.to_thread(served)
    return await asyncio.gather(*holding), normal


def assert_cut_off_at_the_deadline(held: list[Held]) -> None:
    slowest = max(h.seconds for h in held)
    assert slowest <= HELD_AT_MOST, f"a slow sender was held {slowest:.1f} s"
    # Not cut before its time either (the servers' timers keep milliseconds).
    assert min(h.seconds for h in held) >= TIMEOUT * 0.9


def slow_headers(request_line: bytes) -> tuple[bytes, bytes]:
    """A request line and a header sent at once, then more headers a byte at a time."""
    return request_line + b"Host: 127.0.0.1\r\n", b"X-Padding: " + b"a" * 400 + b"\r\n\r\n"


def slow_body(i: int) -> tuple[bytes, bytes]:
    """A signed delivery's headers and half its body at once, then the rest a byte at a time."""
    body, headers = signed(eco_account_event(event_id=f"evt-slow-{i}"))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        "POST /feishu/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{head}\r\n"
    ).encode() + body
    half = len(request) - len(body) // 2
    return request[:half], request[half:]


def cut_off(server: str, part: str) -> tuple[str, dict]:
    return "hireops_slow_requests_total", {"server": server, "part": part}


def deliveries_on_one_connection(port: int, event_ids: list[str], pause: float) -> list[int]:
    """Deliveries one after another on one kept-alive connection, ``pause`` seconds apart; their
    statuses. The connection must stay open from the first to the last."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    statuses, sock = [], None
    try:
        for event_id in event_ids:
            body, headers = signed(eco_account_event(event_id=event_id))
            connection.request(
                "POST", "/feishu/events/", body, {**headers, "Content-Type": "application/json"}
            )
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            sock = sock or connection.sock
            assert connection.sock is sock, "the server closed a kept-alive connection"
            time.sleep(pause)
    finally:
        connection.close()
    return statuses


def wait_until_serving(server) -> None:
    """Both workers have warmed up (the socket accepts connections before they have): each
    logs uvicorn's line once its application's startup is done."""
    deadline = time.monotonic() + 20
    while server.log().count("Application startup complete.") < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)


def test_the_ingest_server_cuts_off_slow_senders_and_serves_the_others(start_ingest_server):
    server = start_ingest_server(workers=2, REQUEST_READ_TIMEOUT=str(TIMEOUT))
    port = urlsplit(server).port
    wait_until_serving(server)
    senders = (
        [(b"", b"")] * 30  # connects and sends nothing
        + [slow_headers(b"POST /feishu/events/ HTTP/1.1\r\n")] * 60
        + [slow_body(i) for i in range(60)]
    )
    kept_alive = [f"evt-kept-alive-{i}" for i in range(4)]
    counted = Counted(cut_off("ingest", "headers"), cut_off("ingest", "body"))

    def deliver():
        """Feishu's way (a fresh connection), then a client keeping its connection for longer
        than the deadline: only a request's arrival is timed, not the connection's age."""
        body, headers = signed(eco_account_event(event_id="evt-fresh-connection"))
        headers["Content-Type"] = "application/json"
        fresh = requests.post(server, data=body, timeout=10, headers=headers)
        return [fresh.status_code, *deliveries_on_one_connection(port, kept_alive, pause=TIMEOUT * 0.4)]

    held, statuses = asyncio.run(attack(port, senders, deliver))

    assert statuses == [200] * 5
    assert FeishuEvent.objects.filter(event_id__in=["evt-fresh-connection", *kept_alive]).count() == 5
    assert_cut_off_at_the_deadline(held)
    # Late headers: no application was called, the server answers 408 itself.
    assert all(h.answer.startswith(b"HTTP/1.1 408 ") for h in held[:90]), held[0].answer
    assert json.loads(held[0].answer.split(b"\r\n\r\n", 1)[1]) == {"msg": "request not received in time"}
    # The body senders of the flood: cut off as late bodies, or, where a worker's loop was
    # starved past the deadline with their headers still unparsed (a loaded machine), as late
    # headers (408). Which of the two depends on the machine's load: the lone sender below is
    # the one that must be cut off as a body.
    body_cut = [h for h in held[90:] if h.answer == b""]
    assert all(h.answer.startswith(b"HTTP/1.1 408 ") for h in held[90:] if h.answer), held[90:]

    # A late body alone: its headers are read at once, its delivery was being read; the
    # connection is closed at the deadline with no answer, and nothing is stored.
    [lone], _ = asyncio.run(attack(port, [slow_body(60)], lambda: None))
    assert lone.answer == b"", lone.answer
    assert_cut_off_at_the_deadline([lone])
    assert not FeishuEvent.objects.filter(event_id__startswith="evt-slow-").exists()
    assert counted.delta() == [150 - len(body_cut), len(body_cut) + 1]
    assert "request cut off, its headers did not arrive within 1.0 s" in server.log()
    assert "request cut off, its body did not arrive within 1.0 s" in server.log()


def test_the_listener_health_port_cuts_off_slow_senders_and_serves_the_others(sandbox, start_listener):
    listener = start_listener(REQUEST_READ_TIMEOUT=str(TIMEOUT))
    port = urlsplit(listener.health_url).port
    senders = [(b"", b"")] * 30 + [slow_headers(b"GET /healthz HTTP/1.1\r\n")] * 70
    counted = Counted(cut_off("listen", "headers"))

    def probe():
        return requests.get(listener.health_url + "/healthz", timeout=10)

    held, probed = asyncio.run(attack(port, senders, probe))

    assert (probed.status_code, probed.json()) == (200, {"status": "alive"})
    assert_cut_off_at_the_deadline(held)
    assert all(h.answer.startswith(b"HTTP/1.0 408 ") for h in held), held[0].answer
    assert json.loads(held[0].answer.split(b"\r\n\r\n", 1)[1]) == {"msg": "request not received in time"}
    assert counted.delta() == [100]
    assert "request cut off, its headers did not arrive within 1.0 s" in listener.log()


@pytest.mark.parametrize(("seconds", "refused"), [(5.0, False), (0.5, False), (0.0, True), (-1.0, True)])
def test_a_deadline_of_no_time_is_refused_by_the_checks(settings, seconds, refused):
    from django.core import checks

    settings.REQUEST_READ_TIMEOUT = seconds
    assert ("hireops.E015" in [m.id for m in checks.run_checks()]) == refused
