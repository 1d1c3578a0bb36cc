"""Feishu's long connection (长连接) in the sandbox (docs/feishu.md §12, §15).

The app asks ``POST /callback/ws/endpoint`` (``endpoint``, served by the HTTP side) for a
single-use WebSocket URL, connects and pings. ``LongConnHub`` runs the WebSocket server on a
thread and event loop of its own. The pusher hands it each event attempt (``deliver``) without
waiting: the hub picks ONE connected client at random (cluster mode), sends the event in
fragments of at most ``fragment_bytes``, waits ``ack_timeout`` for the acknowledgement, then
reports the outcome through a callback. Thousands of attempts can be in flight at once.

Faults (``CONTROL_ROUTES``): drop every connection (close or abort), stall them (silent but
open: the half-open case), refuse the next handshakes, lose the next acknowledgements.
"""

import asyncio
import http
import itertools
import logging
import os
import secrets
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.protocol import State

from hireops.feishu.longconn import frames, protocol
from hireops.feishu.longconn.wire import send_many

log = logging.getLogger("sandbox.longconn")

WS_PATH = "/ws/v2"  # the path of Feishu's URLs (docs/feishu.md §12.2); the query is the sandbox's own
TICKET_TTL = 300.0  # seconds a discovered URL stays usable (CHOICE: Feishu's lifetime is unknown)
CLOSE_TIMEOUT = 1.0  # a client that never answers a close frame is cut off after this
NO_CONNECTION = "no long connection"


class NotRunning(ValueError):
    """The sandbox was started without a ``ws_port``."""


@dataclass(eq=False)
class Connection:
    ws: ServerConnection
    device_id: str
    service_id: int
    remote: str
    connected_at: float
    last_ping: float | None = None
    pings: int = 0
    delivered: int = 0  # events sent on it
    acked: int = 0  # acknowledgements received (any code), lost ones not counted
    stalled: bool = False

    def as_dict(self) -> dict:
        return {
            "device_id": self.device_id,
            "service_id": self.service_id,
            "remote": self.remote,
            "connected_at": self.connected_at,
            "last_ping": self.last_ping,
            "pings": self.pings,
            "delivered": self.delivered,
            "acked": self.acked,
            "stalled": self.stalled,
        }


def _refusal(status: int, msg: str, auth_code: int | None = None) -> Response:
    """A non-101 answer the SDK reads through its ``handshake-*`` headers (§12.3)."""
    body = msg.encode()
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
            (protocol.H_STATUS, str(status)),
            (protocol.H_MSG, msg),
        ]
    )
    if auth_code is not None:
        headers[protocol.H_AUTH_CODE] = str(auth_code)
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:  # 514 is Feishu's, not HTTP's
        reason = "Refused"
    return Response(status, reason, headers, body)


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host  # an IPv6 literal


def _first(query: dict, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


@dataclass(eq=False)
class _Attempt:
    """An event sent (or swallowed by a stalled connection), waiting for its acknowledgement."""

    conn: Connection
    on_done: object
    started: float  # time.monotonic(): ack_seconds counts from here
    ack_timeout: float
    timer: asyncio.TimerHandle | None = None


def _outcome(connection=None, error=None) -> dict:
    # ack_seconds: from the attempt's sending to its ack (what a benchmark reads).
    return {"connection": connection, "status": None, "error": error, "ack_seconds": None}


def _report(on_done, outcome: dict) -> None:
    try:
        on_done(outcome)
    except Exception:
        log.exception("long-connection delivery callback")


class LongConnHub:
    def __init__(self, host: str, port: int, client_config):
        """``client_config()``: the ClientConfig to announce now (a push setting)."""
        self.host = host
        self._client_config = client_config
        # Bound now, like the HTTP server: the port is known (and a clash fails) before start.
        self._sock = socket.create_server((host, port))
        self.port = self._sock.getsockname()[1]
        # Touched by the HTTP threads: behind the lock.
        self._lock = threading.Lock()
        self._tickets: dict[str, tuple[str, int, float]] = {}  # ticket → device_id, service_id, expiry
        self._refusals: list[dict] = []
        self._acks_to_lose = 0
        self._outbox: list[tuple] = []  # attempts handed over, not yet taken by the loop
        self._woken = False  # the loop has been asked to take them
        # Touched on the hub's loop only.
        self._connections: dict[str, Connection] = {}
        self._admitted: set = set()  # handshakes accepted whose handler has not started yet
        self._waiting: dict[tuple[int, str], _Attempt] = {}
        self._tasks: set = set()
        self._seq_ids = itertools.count(1)
        # None until start(); every method but ``running`` and ``stop`` runs on the started hub.
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._server: Server = None  # type: ignore[assignment]
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    def start(self) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="feishu-sandbox-longconn", daemon=True
        )
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("the long-connection server did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(self._open())
        self._loop.call_soon(ready.set)
        self._loop.run_forever()
        self._loop.close()

    async def _open(self):
        return await serve(
            self._serve,
            sock=self._sock,
            process_request=self._process_request,
            # Feishu's keepalive is its own ping frame; the library's would only add noise
            # and end a stalled connection the sandbox means to keep open.
            ping_interval=None,
            close_timeout=CLOSE_TIMEOUT,
            logger=log,
        )

    def stop(self) -> None:
        if self._thread is None:
            self._sock.close()
            return
        if self.running:
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(3)
            except Exception:  # stopping must not fail; the thread is a daemon anyway
                log.exception("long-connection shutdown")
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(2)
        self._thread = None

    async def _shutdown(self) -> None:
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 2)
        for key in list(self._waiting):
            self._decide(key, error="connection closed before the ack")
        self._fail_outbox()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1)

    def _on_loop(self, fn, timeout: float = 5.0):
        """Run coroutine function ``fn`` on the hub's loop and return its result (HTTP threads)."""
        if not self.running:
            raise NotRunning("the long connection is not running (no ws_port)")
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result(timeout)

    # --- discovery and handshake -------------------------------------------------------------
    def new_endpoint(self, host: str) -> str:
        """A fresh URL for one connection: its device_id, an integer service_id, a ticket."""
        device_id, ticket = uuid.uuid4().hex, secrets.token_urlsafe(24)
        service_id = secrets.randbelow(2**31 - 2) + 1  # int32, as every ping carries it
        now = time.monotonic()
        with self._lock:
            self._tickets = {t: v for t, v in self._tickets.items() if v[2] > now}
            self._tickets[ticket] = (device_id, service_id, now + TICKET_TTL)
        query = urlencode({"device_id": device_id, "service_id": service_id, "ticket": ticket})
        return f"ws://{url_host(host)}:{self.port}{WS_PATH}?{query}"

    def _process_request(self, connection, request):
        split = urlsplit(request.path)
        if split.path != WS_PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "404 page not found\n")
        query = parse_qs(split.query)
        with self._lock:
            if self._refusals:
                refusal = self._refusals[0]
                refusal["count"] -= 1
                if refusal["count"] <= 0:
                    self._refusals.pop(0)
                return _refusal(refusal["status"], refusal["msg"], refusal["autherrcode"])
            ticket = self._tickets.pop(_first(query, "ticket") or "", None)
        if (
            ticket is None
            or ticket[2] < time.monotonic()
            or (_first(query, "device_id"), _first(query, "service_id")) != (ticket[0], str(ticket[1]))
        ):
            # CHOICE: a URL is good for one connection; reusing it is refused like a forbidden app.
            return _refusal(protocol.FORBIDDEN, "invalid or used ticket")
        self._admitted = {c for c in self._admitted if c.state is not State.CLOSED}
        if len(self._connections) + len(self._admitted) >= protocol.MAX_CONNECTIONS:
            return _refusal(protocol.AUTH_FAILED, "too many connections", protocol.EXCEED_CONN_LIMIT)
        self._admitted.add(connection)
        return None

    # --- one connection ------------------------------------------------------------------------
    async def _serve(self, ws) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        host, port = ws.remote_address[:2]
        conn = Connection(
            ws, query["device_id"][0], int(query["service_id"][0]), f"{host}:{port}", time.time()
        )
        self._admitted.discard(ws)
        self._connections[conn.device_id] = conn
        try:
            async for message in ws:
                if conn.stalled or isinstance(message, str):  # Feishu speaks binary only
                    continue
                try:
                    frame = frames.decode(message)
                except frames.FrameError:
                    continue
                if frame.method == frames.CONTROL and frame.header(frames.TYPE) == frames.PING:
                    conn.pings += 1
                    conn.last_ping = time.time()
                    # The current ClientConfig rides on every pong: a change reaches the client
                    # at its next ping (§12.5).
                    pong = frames.pong(conn.service_id, self._client_config().to_json())
                    await ws.send(frames.encode(pong))
                elif frame.method == frames.DATA:
                    self._acknowledged(conn, frame)
        except ConnectionClosed:
            pass
        finally:
            if self._connections.get(conn.device_id) is conn:
                del self._connections[conn.device_id]

    def _acknowledged(self, conn: Connection, frame: frames.Frame) -> None:
        key = (frame.seq_id, frame.header(frames.MESSAGE_ID))
        attempt = self._waiting.get(key)  # type: ignore[arg-type]  # no message id: found nowhere
        if attempt is None or attempt.conn is not conn:
            return  # late, unknown, or from another connection: Feishu has moved on
        with self._lock:
            if self._acks_to_lose > 0:
                self._acks_to_lose -= 1
                return
        conn.acked += 1
        self._decide(key, payload=frame.payload)

    # --- delivery --------------------------------------------------------------------------
    def deliver(self, body: bytes, *, ack_timeout: float, fragment_bytes: int, on_done) -> None:
        """Send one attempt of an event (plain JSON ``body``) and return at once. ``on_done``
        gets ``{"connection", "status", "error", "ack_seconds"}`` on the hub's thread when the
        attempt is decided: acknowledged, refused (code ≠ 200), unanswered, or no connection.

        Attempts queue here and the hub's loop takes every one queued at each wake-up (one
        wake-up per burst, not per event), so a burst of thousands costs the emulator little:
        what a client sees is what Feishu sends, not how fast the emulator can hand it over."""
        if not self.running:
            on_done(_outcome(error=NO_CONNECTION))
            return
        with self._lock:
            self._outbox.append((body, ack_timeout, fragment_bytes, on_done))
            if self._woken:
                return
            self._woken = True
        try:
            self._loop.call_soon_threadsafe(self._send_outbox)
        except RuntimeError:  # the loop closed meanwhile
            self._fail_outbox()

    def _fail_outbox(self) -> None:
        with self._lock:
            attempts, self._woken = list(self._outbox), False
            self._outbox.clear()
        for *_, on_done in attempts:
            _report(on_done, _outcome(error=NO_CONNECTION))

    def _send_outbox(self) -> None:
        with self._lock:
            attempts, self._woken = list(self._outbox), False
            self._outbox.clear()
        bursts: dict[Connection, list[bytes]] = {}
        keys: dict[Connection, list[tuple]] = {}
        for body, ack_timeout, fragment_bytes, on_done in attempts:
            if not self._connections:
                _report(on_done, _outcome(error=NO_CONNECTION))
                continue
            # Cluster mode: one client at random, a stalled one included (§12.1).
            conn = secrets.choice(list(self._connections.values()))
            # The ids from one read of the system's randomness instead of three.
            rand = os.urandom(40)
            key = (next(self._seq_ids), rand[:16].hex())
            attempt = _Attempt(conn, on_done, time.monotonic(), ack_timeout)
            attempt.timer = self._loop.call_later(ack_timeout, self._expire, key)
            self._waiting[key] = attempt
            if conn.stalled:  # a stalled connection swallows it
                continue
            parts = frames.data_frames(
                body,
                seq_id=key[0],
                log_id=int.from_bytes(rand[32:], "big") >> 1,
                service=conn.service_id,
                message_id=key[1],
                trace_id=rand[16:32].hex(),
                chunk=fragment_bytes,
            )
            bursts.setdefault(conn, []).extend(frames.encode(part) for part in parts)
            keys.setdefault(conn, []).append(key)
        for conn, messages in bursts.items():
            task = self._loop.create_task(self._send(conn, messages, keys[conn]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, conn: Connection, messages: list[bytes], keys: list[tuple]) -> None:
        try:
            await send_many(conn.ws, messages)
        except ConnectionClosed:
            for key in keys:
                self._decide(key, error="connection closed before the ack")
            return
        conn.delivered += len(keys)

    def _expire(self, key: tuple) -> None:
        attempt = self._waiting.get(key)
        if attempt is not None:
            self._decide(key, error=f"no ack within {attempt.ack_timeout:g} s")

    def _decide(self, key: tuple, *, error: str | None = None, payload: bytes | None = None) -> None:
        attempt = self._waiting.pop(key, None)
        if attempt is None:
            return  # decided already
        attempt.timer.cancel()  # type: ignore[union-attr]  # set when the attempt was sent
        outcome = _outcome(connection=attempt.conn.device_id, error=error)
        if error is None:
            code = protocol.ack_code(payload)
            outcome["status"] = code
            outcome["ack_seconds"] = round(time.monotonic() - attempt.started, 6)
            if code != protocol.ACK_OK:
                outcome["error"] = f"ack code {code}"
        _report(attempt.on_done, outcome)

    # --- faults and inspection (HTTP threads) -------------------------------------------------
    def connections(self) -> list[dict]:
        async def listing():
            return [c.as_dict() for c in self._connections.values()]

        return self._on_loop(listing)

    def drop(self, mode: str = "close") -> dict:
        if mode not in ("close", "abort"):
            raise ValueError("mode must be close or abort")
        return {"dropped": self._on_loop(lambda: self._drop(mode))}

    async def _drop(self, mode: str) -> int:
        conns = list(self._connections.values())
        for conn in conns:  # gone at once for whoever lists them next
            self._connections.pop(conn.device_id, None)
        if mode == "abort":  # TCP gone without a close frame
            for conn in conns:
                conn.ws.transport.abort()
        else:
            await asyncio.gather(*(c.ws.close(1000) for c in conns), return_exceptions=True)
        return len(conns)

    def stall(self) -> dict:
        async def stall_all():
            for conn in self._connections.values():
                conn.stalled = True
            return len(self._connections)

        return {"stalled": self._on_loop(stall_all)}

    def refuse(self, count=1, status=514, autherrcode=None, msg="") -> dict:
        if int(count) < 1:
            raise ValueError("count must be at least 1")
        status = int(status)
        if not 200 <= status <= 999 or status == 101:
            raise ValueError("status must be an HTTP status other than 101")
        if autherrcode is None and status == protocol.AUTH_FAILED:
            autherrcode = protocol.EXCEED_CONN_LIMIT
        refusal = {
            "count": int(count),
            "status": status,
            "autherrcode": None if autherrcode is None else int(autherrcode),
            "msg": str(msg or "scripted refusal"),
        }
        with self._lock:
            self._refusals.append(refusal)
        return dict(refusal)

    def lose_acks(self, count: int = 1) -> dict:
        if int(count) < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._acks_to_lose += int(count)
            return {"acks_to_lose": self._acks_to_lose}

    def reset(self) -> None:
        """Forget tickets and scripted faults, close every connection (code 1000)."""
        with self._lock:
            self._tickets.clear()
            self._refusals.clear()
            self._acks_to_lose = 0
        if self.running:
            self._on_loop(lambda: self._drop("close"))


# --- HTTP side ---------------------------------------------------------------------------------
WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # noqa: S104 (compared with, not bound to)


def _public_host(bound: str, host_header: str | None) -> str:
    """The host a client can reach: the bound one, or the one it asked for on a wildcard bind."""
    if bound not in WILDCARD_HOSTS or not host_header:
        return bound
    return urlsplit("//" + host_header).hostname or bound


def endpoint(sb, call):
    """``POST /callback/ws/endpoint`` {AppID, AppSecret} → the URL and the ClientConfig (§12.2)."""
    hub = sb.longconn
    if hub is None:
        return 404, "404 page not found"
    body = call.body
    app_id, secret = body.get("AppID"), body.get("AppSecret")
    if not (
        isinstance(app_id, str)
        and isinstance(secret, str)
        and app_id == sb.state.app_id
        and secrets.compare_digest(secret.encode(), sb.state.app_secret.encode())
    ):
        # CHOICE (UNCONFIRMED): Feishu's code for a wrong secret is not documented; 514
        # AUTH_FAILED is the SDK's name for it, and fatal to the SDK like any unknown code.
        return 200, {"code": protocol.AUTH_FAILED, "msg": "auth failed"}
    url = hub.new_endpoint(_public_host(hub.host, call.headers.get("Host")))
    config = asdict(sb.pusher.config.client_config)
    return 200, {"code": protocol.OK, "msg": "ok", "data": {"URL": url, "ClientConfig": config}}


ROUTES = [("POST", protocol.ENDPOINT_PATH, endpoint, {"kind": "longconn"})]


# --- control API -------------------------------------------------------------------------------
def _hub(sb) -> LongConnHub:
    if sb.longconn is None:
        raise NotRunning("the long connection is not running (no ws_port)")
    return sb.longconn


def _connections(sb, call):
    return _hub(sb).connections()


def _drop(sb, call):
    return _hub(sb).drop(call.body.get("mode", "close"))


def _stall(sb, call):
    return _hub(sb).stall()


def _refuse(sb, call):
    b = call.body
    return _hub(sb).refuse(b.get("count", 1), b.get("status", 514), b.get("autherrcode"), b.get("msg", ""))


def _lose_acks(sb, call):
    return _hub(sb).lose_acks(call.body.get("count", 1))


_L = "/_sandbox/longconn"
CONTROL_ROUTES = [
    (m, _L + p, fn, {"kind": "control"})
    for m, p, fn in [
        ("GET", "/connections", _connections),
        ("POST", "/drop", _drop),
        ("POST", "/stall", _stall),
        ("POST", "/refuse", _refuse),
        ("POST", "/lose_acks", _lose_acks),
    ]
]
