"""The long connection (docs/feishu.md §12, §15): discovery, handshake, pings, delivery with
fragments and acknowledgements, retries, cluster mode and the faults, checked with a raw
WebSocket client speaking the frame codec (the official SDK: test_sdk_longconn.py)."""

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from hireops.feishu.longconn import frames, protocol
from sandbox.control import SandboxError

ACK_TIMEOUT = 0.5


def discover(sandbox, app_id=None, secret=None) -> requests.Response:
    body = {"AppID": app_id or settings.FEISHU_APP_ID, "AppSecret": secret or settings.FEISHU_APP_SECRET}
    return requests.post(sandbox.url + protocol.ENDPOINT_PATH, json=body, timeout=5)


def wait_until(predicate, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class RawClient:
    """What an app does, by hand: discover, connect, reassemble, acknowledge.

    ``acks``: scripted answers to the next events, a code or None (stay silent); then 200."""

    def __init__(self, sandbox, url=None, acks=()):
        self.url = url or discover(sandbox).json()["data"]["URL"]
        query = parse_qs(urlsplit(self.url).query)
        self.device_id, self.service_id = query["device_id"][0], int(query["service_id"][0])
        self.acks = list(acks)
        self.frames: list[frames.Frame] = []  # every frame received
        self.events: list[dict] = []  # every event reassembled
        self.closed: ConnectionClosed | None = None
        self._parts: dict[str, dict[int, bytes]] = {}
        self._cv = threading.Condition()
        self.ws = connect(self.url, proxy=None, open_timeout=5, close_timeout=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        try:
            while True:
                frame = frames.decode(self.ws.recv())
                with self._cv:
                    self.frames.append(frame)
                    self._cv.notify_all()
                if frame.method == frames.DATA:
                    self._data(frame)
        except ConnectionClosed as exc:
            self.closed = exc
        with self._cv:
            self.closed = self.closed or True
            self._cv.notify_all()

    def _data(self, frame):
        parts = self._parts.setdefault(frame.header(frames.MESSAGE_ID), {})
        parts[int(frame.header(frames.SEQ))] = frame.payload
        if len(parts) < int(frame.header(frames.SUM)):
            return  # like the SDK: only the fragment that completes the set is answered
        payload = b"".join(parts[i] for i in sorted(parts))
        with self._cv:
            self.events.append(json.loads(payload))
            code = self.acks.pop(0) if self.acks else 200
            self._cv.notify_all()
        if code is not None:
            self.ws.send(frames.encode(frames.ack(frame, protocol.ack_payload(code), handler_ms=1)))

    def ping(self):
        self.ws.send(frames.encode(frames.ping(self.service_id)))

    def wait(self, predicate, timeout=5.0, what="frames"):
        deadline = time.monotonic() + timeout
        with self._cv:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}: {len(self.frames)} frames")
                self._cv.wait(left)

    def wait_events(self, n, timeout=5.0) -> list[dict]:
        self.wait(lambda c: len(c.events) >= n, timeout, f"{n} events")
        return list(self.events)

    def pongs(self) -> list[frames.Frame]:
        return [f for f in self.frames if f.header(frames.TYPE) == frames.PONG]

    def close(self):
        self.ws.close()


@pytest.fixture
def longconn(sandbox):
    sandbox.configure(delivery="long_connection", ack_timeout=ACK_TIMEOUT)
    clients = []

    def client(**kw) -> RawClient:
        made = RawClient(sandbox, **kw)
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.ws.close()


def deliveries_of(sandbox, n, timeout=10.0) -> list[dict]:
    return wait_until(lambda: (d := sandbox.deliveries()) and len(d) >= n and d, timeout, f"{n} deliveries")


# --- discovery ---------------------------------------------------------------------------------
def test_discovery_answers_a_single_use_url_and_all_four_client_settings(sandbox):
    sandbox.configure(client_config={"PingInterval": 7})
    resp = discover(sandbox)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["code"], body["msg"]) == (0, "ok")
    assert body["data"]["ClientConfig"] == {
        "ReconnectCount": -1,
        "ReconnectInterval": 120,
        "ReconnectNonce": 30,
        "PingInterval": 7,
    }
    url = urlsplit(body["data"]["URL"])
    assert (url.scheme, url.port, url.path) == ("ws", sandbox.server.longconn.port, "/ws/v2")
    assert sandbox.server.ws_url == f"ws://127.0.0.1:{url.port}"
    query = parse_qs(url.query)
    assert set(query) == {"device_id", "service_id", "ticket"}
    assert query["service_id"][0].isdigit() and 0 < int(query["service_id"][0]) < 2**31
    assert discover(sandbox).json()["data"]["URL"] != body["data"]["URL"]
    logged = sandbox.requests(protocol.ENDPOINT_PATH)[0]
    assert logged["method"] == "POST" and logged["status"] == 200 and logged["code"] == 0
    assert logged["json"] == {"AppID": settings.FEISHU_APP_ID, "AppSecret": "***"}


def test_discovery_refuses_a_wrong_or_missing_secret_with_auth_failed(sandbox):
    assert discover(sandbox, secret="wrong").json() == {"code": 514, "msg": "auth failed"}
    assert discover(sandbox, app_id="cli_other").json()["code"] == protocol.AUTH_FAILED
    resp = requests.post(sandbox.url + protocol.ENDPOINT_PATH, json={}, timeout=5)
    assert (resp.status_code, resp.json()["code"]) == (200, protocol.AUTH_FAILED)


def test_discovery_obeys_faults_on_its_path(sandbox):
    sandbox.add_fault(protocol.ENDPOINT_PATH, "error", code=protocol.SYSTEM_BUSY, status=200, msg="busy")
    sandbox.add_fault(protocol.ENDPOINT_PATH, "5xx", status=502)
    busy = discover(sandbox)
    assert (busy.status_code, busy.json()["code"], busy.json()["msg"]) == (200, 1, "busy")
    assert discover(sandbox).status_code == 502
    assert discover(sandbox).json()["code"] == 0
    assert [e["fault"] for e in sandbox.requests(protocol.ENDPOINT_PATH)] == ["error", "5xx", None]


# --- handshake ---------------------------------------------------------------------------------
def refused(url) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as caught:
        connect(url, proxy=None, open_timeout=5)
    response = caught.value.response
    return response.status_code, {k: v for k, v in response.headers.raw_items() if k.startswith("handshake-")}


def test_a_ticket_opens_one_connection_and_an_unknown_one_is_forbidden(sandbox, longconn):
    url = discover(sandbox).json()["data"]["URL"]
    client = longconn(url=url)
    assert sandbox.wait_longconn_connections(1)[0]["device_id"] == client.device_id
    assert refused(url) == (403, {"handshake-status": "403", "handshake-msg": "invalid or used ticket"})
    forged = url.replace("ticket=", "ticket=x")
    assert refused(forged)[0] == 403


def test_scripted_refusals_carry_the_handshake_headers(sandbox):
    sandbox.longconn_refuse()
    sandbox.longconn_refuse(count=2, status=503, msg="busy")
    url = discover(sandbox).json()["data"]["URL"]
    assert refused(url) == (
        514,
        {
            "handshake-status": "514",
            "handshake-msg": "scripted refusal",
            "handshake-autherrcode": "1000040350",
        },
    )
    assert refused(url) == (503, {"handshake-status": "503", "handshake-msg": "busy"})
    assert refused(url)[0] == 503
    connect(url, proxy=None, open_timeout=5).close()  # the ticket was not spent by the refusals


def test_the_51st_connection_is_refused_as_too_many(sandbox):
    opened = []
    try:
        for _ in range(protocol.MAX_CONNECTIONS):
            opened.append(connect(discover(sandbox).json()["data"]["URL"], proxy=None, open_timeout=5))
        assert len(sandbox.longconn_connections()) == 50
        status, headers = refused(discover(sandbox).json()["data"]["URL"])
        assert status == 514
        assert headers["handshake-autherrcode"] == str(protocol.EXCEED_CONN_LIMIT)
        assert headers["handshake-msg"] == "too many connections"
    finally:
        for ws in opened:
            ws.close()


# --- pings -------------------------------------------------------------------------------------
def test_a_ping_gets_a_pong_carrying_the_current_client_config(sandbox, longconn):
    client = longconn()
    client.ping()
    client.wait(lambda c: len(c.pongs()) == 1)
    pong = client.pongs()[0]
    assert (pong.seq_id, pong.log_id, pong.service, pong.method) == (0, 0, client.service_id, 0)
    assert pong.headers == [("type", "pong")]
    assert json.loads(pong.payload) == sandbox.config()["client_config"]
    sandbox.configure(client_config={"PingInterval": 5, "ReconnectNonce": 1})
    client.ping()
    client.wait(lambda c: len(c.pongs()) == 2)
    assert json.loads(client.pongs()[1].payload) == {
        "ReconnectCount": -1,
        "ReconnectInterval": 120,
        "ReconnectNonce": 1,
        "PingInterval": 5,
    }
    listed = sandbox.longconn_connections()[0]
    assert listed["pings"] == 2 and listed["last_ping"] >= listed["connected_at"]
    assert listed["remote"].startswith("127.0.0.1:") and listed["service_id"] == client.service_id


def test_push_settings_are_checked(sandbox):
    for bad in (
        {"delivery": "pigeon"},
        {"ack_timeout": 0},
        {"fragment_bytes": 0},
        {"client_config": {"PingInterval": "5"}},
        {"client_config": {"Nope": 1}},
        {"max_in_flight": -1},
    ):
        with pytest.raises(SandboxError, match="HTTP 400"):
            sandbox.configure(**bad)
    assert sandbox.config()["delivery"] == "webhook"


# --- delivery ----------------------------------------------------------------------------------
def test_an_event_goes_over_the_connection_as_plain_json_and_its_ack_is_recorded(sandbox, longconn):
    client = longconn()
    sandbox.wait_longconn_connections(1)
    event = sandbox.bind_account()
    assert client.wait_events(1) == [event] == sandbox.events()
    data = [f for f in client.frames if f.method == frames.DATA]
    assert len(data) == 1
    frame = data[0]
    assert frame.service == client.service_id and frame.seq_id > 0 and frame.log_id > 0
    assert [k for k, _ in frame.headers] == ["type", "message_id", "sum", "seq", "trace_id"]
    assert (frame.header("type"), frame.header("sum"), frame.header("seq")) == ("event", "1", "0")
    assert json.loads(frame.payload) == event  # plain JSON: no encrypt wrapper
    (record,) = deliveries_of(sandbox, 1)
    assert record == {
        "event_id": event["header"]["event_id"],
        "event_type": "hire.eco_account.created_v1",
        "attempt": 1,
        "transport": "long_connection",
        "url": None,
        "connection": client.device_id,
        "status": 200,
        "error": None,
        "time": record["time"],
        "ack_seconds": record["ack_seconds"],
    }
    assert 0 < record["ack_seconds"] < 3
    listed = sandbox.longconn_connections()[0]
    assert (listed["delivered"], listed["acked"]) == (1, 1)


def test_a_bounded_window_holds_the_next_event_until_an_ack_frees_a_place(sandbox, longconn):
    """The benchmarks' closed loop: with ``max_in_flight`` set, an event waits for an ack (or
    an ack deadline) before it is sent; unbounded by default, as Feishu documents no window."""
    assert sandbox.config()["max_in_flight"] == 0
    sandbox.configure(max_in_flight=2, ack_timeout=2.0)
    client = longconn(acks=[None, None])  # silent on the first two: the window stays full
    sandbox.wait_longconn_connections(1)
    sandbox.push_app_tickets(5)
    client.wait_events(2)
    time.sleep(0.3)  # well inside the 2 s deadline: nothing more may arrive meanwhile
    assert len(client.events) == 2
    # The deadlines free the window; the rest flow, each acknowledged at once.
    client.wait_events(5, timeout=5)
    firsts = lambda: [d for d in sandbox.deliveries() if d["attempt"] == 1]  # noqa: E731
    first = sorted(
        wait_until(lambda: len(firsts()) >= 5 and firsts(), what="5 first attempts"), key=lambda d: d["time"]
    )
    assert len({d["event_id"] for d in first}) == 5
    assert [d["status"] for d in first[:2]] == [None, None] and [d["status"] for d in first[2:]] == [200] * 3
    assert min(d["time"] for d in first[2:]) >= max(d["time"] for d in first[:2]) + 1.9


def test_a_large_event_comes_in_fragments_numbered_from_zero(sandbox, longconn):
    sandbox.configure(fragment_bytes=64)
    client = longconn()
    sandbox.wait_longconn_connections(1)
    event = sandbox.bind_account(account_name="背调账号 " + "长" * 60)
    assert client.wait_events(1) == [event]
    parts = [f for f in client.frames if f.method == frames.DATA]
    size = len(json.dumps(event, ensure_ascii=False).encode())
    assert len(parts) == -(-size // 64) > 2
    assert [p.header("seq") for p in parts] == [str(i) for i in range(len(parts))]
    assert {(p.header("sum"), p.header("message_id"), p.seq_id, p.log_id) for p in parts} == {
        (str(len(parts)), parts[0].header("message_id"), parts[0].seq_id, parts[0].log_id)
    }
    assert all(len(p.payload) <= 64 for p in parts)
    assert deliveries_of(sandbox, 1)[0]["status"] == 200


@pytest.mark.parametrize(("answer", "error"), [(500, "ack code 500"), (None, "no ack within 0.5 s")])
def test_a_refused_or_missing_ack_is_retried_on_the_schedule(sandbox, longconn, answer, error):
    client = longconn(acks=[answer, answer])
    sandbox.wait_longconn_connections(1)
    event = sandbox.bind_account()
    client.wait_events(3)
    records = deliveries_of(sandbox, 3)
    assert [(d["attempt"], d["status"], d["error"]) for d in records] == [
        (1, answer, error),
        (2, answer, error),
        (3, 200, None),
    ]
    assert {d["event_id"] for d in records} == {event["header"]["event_id"]}
    assert {e["header"]["event_id"] for e in client.events} == {event["header"]["event_id"]}
    # The second try waited retry_delays[0] after the first had failed.
    assert records[1]["time"] - records[0]["time"] >= 0.2 + (ACK_TIMEOUT if answer is None else 0)


def test_a_lost_ack_makes_feishu_deliver_the_same_event_again(sandbox, longconn):
    client = longconn()
    sandbox.wait_longconn_connections(1)
    assert sandbox.longconn_lose_acks(1) == {"acks_to_lose": 1}
    event = sandbox.bind_account()
    events = client.wait_events(2)
    assert events == [event, event]  # the client stored it once already: it must dedupe
    records = deliveries_of(sandbox, 2)
    assert [(d["attempt"], d["error"]) for d in records] == [(1, "no ack within 0.5 s"), (2, None)]
    assert sandbox.longconn_connections()[0]["acked"] == 1


def test_without_a_connection_the_attempt_fails_and_is_retried(sandbox, longconn):
    event = sandbox.bind_account()
    first = deliveries_of(sandbox, 1)[0]
    assert (first["connection"], first["error"]) == (None, "no long connection")
    client = longconn()
    assert client.wait_events(1) == [event]
    assert deliveries_of(sandbox, 2)[-1]["status"] == 200


def test_a_stalled_connection_stays_open_but_says_nothing(sandbox, longconn):
    stalled = longconn()
    sandbox.wait_longconn_connections(1)
    assert sandbox.longconn_stall() == {"stalled": 1}
    stalled.ping()
    event = sandbox.bind_account()
    first = deliveries_of(sandbox, 1)[0]
    assert (first["connection"], first["error"]) == (stalled.device_id, "no ack within 0.5 s")
    assert stalled.frames == [] and stalled.closed is None  # no pong, no event, still open
    assert sandbox.longconn_connections()[0]["stalled"] is True
    stalled.close()  # the app's watchdog gives up on it and reconnects
    fresh = longconn()
    assert fresh.wait_events(1, timeout=10) == [event]
    fresh.ping()
    fresh.wait(lambda c: len(c.pongs()) == 1)  # new connections are not stalled
    assert deliveries_of(sandbox, 2)[-1]["connection"] == fresh.device_id


@pytest.mark.parametrize("mode", ["close", "abort"])
def test_drop_closes_every_connection_or_cuts_it(sandbox, longconn, mode):
    clients = [longconn(), longconn()]
    sandbox.wait_longconn_connections(2)
    assert sandbox.longconn_drop(mode) == {"dropped": 2}
    for client in clients:
        client.wait(lambda c: c.closed is not None, what="the close")
        if mode == "close":
            assert isinstance(client.closed, ConnectionClosedOK) and client.closed.rcvd.code == 1000
        else:
            assert isinstance(client.closed, ConnectionClosedError) and client.closed.rcvd is None
    assert sandbox.longconn_connections() == []


def test_cluster_mode_gives_each_event_to_exactly_one_client(sandbox, longconn):
    clients = [longconn(), longconn()]
    sandbox.wait_longconn_connections(2)
    pushed = [sandbox.bind_account()["header"]["event_id"] for _ in range(20)]
    wait_until(lambda: sum(len(c.events) for c in clients) >= 20, what="20 events")
    got = [[e["header"]["event_id"] for e in c.events] for c in clients]
    assert sorted(got[0] + got[1]) == sorted(pushed)  # each once, none twice
    assert got[0] and got[1]  # at random: both take some (all 20 to one: 2 in a million)
    records = deliveries_of(sandbox, 20)
    assert all(d["status"] == 200 for d in records)
    by_connection = {c.device_id: set(g) for c, g in zip(clients, got, strict=True)}
    assert all(d["event_id"] in by_connection[d["connection"]] for d in records)


def test_delivery_both_reaches_the_webhook_and_the_connection(sandbox, longconn, webhook_receiver):
    sandbox.configure(delivery="both", webhook_url=webhook_receiver.url)
    client = longconn()
    sandbox.wait_longconn_connections(1)
    event = sandbox.bind_account()
    assert webhook_receiver.wait_for(1)[0].json() == event
    assert client.wait_events(1) == [event]
    records = deliveries_of(sandbox, 2)
    assert sorted((d["transport"], d["status"]) for d in records) == [
        ("long_connection", 200),
        ("webhook", 200),
    ]
    assert next(d for d in records if d["transport"] == "webhook")["url"] == webhook_receiver.url


def test_under_both_a_failed_channel_is_retried_alone(sandbox, longconn, webhook_receiver):
    sandbox.configure(delivery="both", webhook_url=webhook_receiver.url)
    client = longconn(acks=[500])
    sandbox.wait_longconn_connections(1)
    sandbox.bind_account()
    client.wait_events(2)
    assert sandbox.server.pusher.wait_idle()
    records = sandbox.deliveries()
    assert sorted((d["transport"], d["attempt"], d["status"]) for d in records) == [
        ("long_connection", 1, 500),
        ("long_connection", 2, 200),
        ("webhook", 1, 200),
    ]
    assert len(webhook_receiver.requests) == 1


def test_reset_closes_the_connections_and_restores_the_settings(sandbox, longconn):
    sandbox.configure(fragment_bytes=10, client_config={"PingInterval": 1})
    client = longconn()
    sandbox.wait_longconn_connections(1)
    sandbox.longconn_refuse(count=5)
    sandbox.reset()
    client.wait(lambda c: c.closed is not None, what="the close")
    assert client.closed.rcvd.code == 1000
    assert sandbox.longconn_connections() == []
    config = sandbox.config()
    assert (config["delivery"], config["fragment_bytes"], config["ack_timeout"]) == ("webhook", 32768, 3.0)
    assert config["client_config"]["PingInterval"] == 120
    RawClient(sandbox).close()  # the scripted refusals are gone
