"""The listener's end of the long connection: connect, keep alive, receive, acknowledge.

Written against the protocol (``frames``, ``protocol``), not on ``lark_oapi.ws.Client``,
because the SDK's client cannot be made to meet our rules without rewriting its core:
its discovery POST has no timeout, it never checks that pongs arrive (a half-open
connection delivers nothing, forever), its handler runs synchronously on the event loop
(one slow commit stalls pings and every other event), it gives up for good after a
"fatal" answer, it runs on a loop created at import, and it acknowledges when the
handler returns, not when we say the event is safe. Here:

- every network step has a deadline: discovery (connect 5 s, read 10 s), the WebSocket
  handshake (``OPEN_TIMEOUT``), the close (``CLOSE_TIMEOUT``);
- a ping goes out at once and then every ``PingInterval`` (the server's, capped at
  ``MAX_PING_INTERVAL``), and a watchdog drops the connection when nothing at all (pong
  or data) has arrived for that interval plus a grace (``PONG_GRACE``, at most one more
  interval): a silent stall is found within 60 s at Feishu's settings;
- each event is handled in its own task, at most ``MAX_IN_FLIGHT`` at once (past that we
  stop reading, and Feishu's own ack deadline makes it retry), and acknowledged with the
  code the handler returns: 200 only once the handler says the event is stored;
- reconnects wait ``random() × ReconnectNonce`` after a drop (the server spreads its
  clients' reconnects with it), then back off exponentially with full jitter from 1 s up
  to ``ReconnectInterval``; a new discovery each time, as the SDK does. After
  ``ReconnectCount`` failed tries (−1: never) we do not stop, unlike the SDK: a listener
  that gives up is an outage nobody restarts; tries slow down to ``ReconnectInterval``
  and the state says what fails. Credentials Feishu refuses, or "too many connections",
  are retried at that slow pace too: both can be fixed without restarting us;
- ``run`` returns when ``stop`` is set: it stops reading, lets the events in hand finish
  and be acknowledged (``DRAIN_TIMEOUT``), then closes the connection cleanly.

Environment proxies (HTTPS_PROXY…) are honoured by both the discovery POST (requests) and
the WebSocket (websockets), since a company network often reaches Feishu only through one.
"""

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import parse_qs, urlsplit

import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from .. import hooks
from . import frames, protocol, wire
from .protocol import ClientConfig

log = logging.getLogger(__name__)

DISCOVERY_TIMEOUT = (5.0, 10.0)  # connect, read
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
MAX_PING_INTERVAL = 30.0  # seconds; the server asks for 120, which would hide a stall for 2 min
PONG_GRACE = 10.0  # at most; never more than one ping interval (a pong takes milliseconds)
MAX_IN_FLIGHT = 256
DRAIN_TIMEOUT = 5.0
FRAGMENT_TTL = 5.0  # as the SDK: fragments of a message not completed in 5 s are dropped
MAX_MESSAGE = 16 * 1024 * 1024  # one WebSocket message (a fragment); Feishu's are far smaller

# handler(kind, payload) → the acknowledgement's code (200: stored; anything else: Feishu retries)
Handler = Callable[[str, bytes], Awaitable[int]]


class Refused(Exception):
    """Feishu refused us (discovery or handshake). ``permanent``: retrying soon will not help
    (credentials, too many connections); the slow pace applies."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


@dataclass
class LinkState:
    """What operators see: health, metrics and the heartbeat row read it."""

    connected: bool = False
    since: float = field(default_factory=time.time)  # of the current state
    reason: str = "starting"  # why not connected
    connection_id: str = ""
    reconnects: int = 0
    received: int = 0
    last_frame_at: float | None = None

    def up(self, connection_id: str) -> None:
        self.connected, self.since, self.reason, self.connection_id = True, time.time(), "", connection_id

    def down(self, reason: str) -> None:
        """Disconnected since the first drop, whatever fails while reconnecting."""
        if self.connected:
            self.since = time.time()
        self.connected, self.reason, self.connection_id = False, reason, ""


class LongConnClient:
    def __init__(
        self,
        domain: str,
        app_id: str,
        app_secret: str,
        handler: Handler,
        *,
        max_ping_interval: float = MAX_PING_INTERVAL,
        pong_grace: float = PONG_GRACE,
        max_in_flight: int = MAX_IN_FLIGHT,
        on_change: Callable[[LinkState], None] | None = None,
    ):
        self.domain = domain.rstrip("/")
        self._app_id, self._app_secret = app_id, app_secret
        self._handler = handler
        self._max_ping, self._grace = max_ping_interval, pong_grace
        self._slots = asyncio.Semaphore(max_in_flight)
        self._on_change = on_change or (lambda state: None)
        self.config = ClientConfig()
        self.state = LinkState()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._acks: _AckBatch | None = None  # acks gathering in this turn of the loop

    # --- the reconnect loop -------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                url = await self._discover()
                ws = await self._open(url)
            except Refused as exc:
                failures += 1
                self._down(exc.reason)
                delay = self._retry_delay(failures, exc.permanent)
                log.warning("long connection refused: %s; next try in %.1f s", exc.reason, delay)
            else:
                failures = 0
                reason = await self._serve(ws, url, stop)
                if stop.is_set():
                    break
                self._down(reason)
                delay = random.random() * self.config.ReconnectNonce  # noqa: S311 (jitter, not a secret)
                log.warning("long connection lost: %s; reconnecting in %.1f s", reason, delay)
            self.state.reconnects += 1
            hooks.emit("reconnected")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        self._down("stopped")

    def _retry_delay(self, failures: int, permanent: bool) -> float:
        cap = max(1.0, float(self.config.ReconnectInterval))
        count = self.config.ReconnectCount
        if permanent or (count >= 0 and failures > count):
            return cap
        return random.uniform(0, min(cap, 2.0 ** (failures - 1)))  # noqa: S311

    def _down(self, reason: str) -> None:
        self.state.down(reason)
        self._on_change(self.state)

    # --- discovery and handshake ------------------------------------------------------------
    async def _discover(self) -> str:
        try:
            resp = await asyncio.to_thread(
                requests.post,
                self.domain + protocol.ENDPOINT_PATH,
                json={"AppID": self._app_id, "AppSecret": self._app_secret},
                headers={"locale": "zh"},
                timeout=DISCOVERY_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise Refused(f"discovery failed: {type(exc).__name__}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = {}
        code = body.get("code") if isinstance(body, dict) else None
        if resp.status_code != 200 or code != protocol.OK:
            msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
            permanent = resp.status_code == 200 and code not in protocol.RETRYABLE_CODES
            raise Refused(f"discovery answered HTTP {resp.status_code}, code {code}: {msg}"[:300], permanent)
        data = body.get("data") or {}
        self.config = ClientConfig.from_json(data.get("ClientConfig"), self.config)
        url = data.get("URL")
        if not isinstance(url, str) or not url:
            raise Refused("discovery answered no URL")
        return url

    async def _open(self, url: str) -> ClientConnection:
        query = parse_qs(urlsplit(url).query)
        if not query.get("device_id") or not query.get("service_id", [""])[0].isdigit():
            raise Refused("discovery's URL lacks device_id or a numeric service_id")
        try:
            return await connect(
                url,
                open_timeout=OPEN_TIMEOUT,
                close_timeout=CLOSE_TIMEOUT,
                ping_interval=None,  # Feishu's keep-alive is its own ping frame (below)
                max_size=MAX_MESSAGE,
                compression=None,
                user_agent_header="hireops",
            )
        except InvalidStatus as exc:
            raise _handshake_refusal(exc) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise Refused(f"handshake failed: {type(exc).__name__}") from exc

    # --- one connection ------------------------------------------------------------------
    async def _serve(self, ws: ClientConnection, url: str, stop: asyncio.Event) -> str:
        query = parse_qs(urlsplit(url).query)
        service, connection_id = int(query["service_id"][0]), query["device_id"][0]
        self.state.up(connection_id)
        self.state.last_frame_at = time.monotonic()
        self._on_change(self.state)
        log.info("long connection open (%s)", connection_id)
        reader = asyncio.create_task(self._read(ws), name="longconn-read")
        keeper = asyncio.create_task(self._keep_alive(ws, service), name="longconn-ping")
        stopping = asyncio.create_task(stop.wait(), name="longconn-stop")
        done, _ = await asyncio.wait({reader, keeper, stopping}, return_when=asyncio.FIRST_COMPLETED)
        reason = "stopping" if stopping in done else _ended(reader if reader in done else keeper)
        for task in (reader, keeper, stopping):
            task.cancel()
        await asyncio.gather(reader, keeper, stopping, return_exceptions=True)
        if stopping in done:
            await self._drain()
            await ws.close()
        else:
            ws.transport.abort() if reason.startswith("silent") else await ws.close()
            # Events in hand finish (stored rows stay stored); their acks go nowhere and
            # Feishu redelivers them: duplicates, counted and dropped by the inbox.
            await self._drain()
        return reason

    async def _drain(self) -> None:
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=DRAIN_TIMEOUT)

    def _ping_every(self) -> float:
        return max(0.05, min(float(self.config.PingInterval), self._max_ping))

    async def _keep_alive(self, ws: ClientConnection, service: int) -> None:
        """Ping now and every interval; return when nothing has come in for too long."""
        next_ping = 0.0
        while True:
            now = time.monotonic()
            if now >= next_ping:
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(frames.encode(frames.ping(service)))
                next_ping = now + self._ping_every()
            silent_for = now - cast(float, self.state.last_frame_at)  # set before this task starts
            if silent_for > self._ping_every() + min(self._grace, self._ping_every()):
                raise _Silent(f"silent for {silent_for:.0f} s")
            await asyncio.sleep(max(0.0, min(next_ping - time.monotonic(), 0.5)))

    async def _read(self, ws: ClientConnection) -> None:
        parts: dict[str, tuple[float, list[bytes | None]]] = {}
        async for message in ws:
            self.state.last_frame_at = time.monotonic()
            if isinstance(message, str):
                log.warning("long connection: a text message, ignored")
                continue
            try:
                frame = frames.decode(message)
            except frames.FrameError as exc:
                log.warning("long connection: an unreadable frame, ignored (%s)", exc)
                continue
            if frame.method == frames.CONTROL:
                self._control(frame)
                continue
            payload = _reassembled(frame, parts)
            if payload is None:
                continue
            await self._slots.acquire()  # past MAX_IN_FLIGHT, stop reading until one finishes
            task = asyncio.create_task(self._handle(ws, frame, payload))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()

    def _control(self, frame: frames.Frame) -> None:
        if frame.header(frames.TYPE) == frames.PONG and frame.payload:
            with contextlib.suppress(ValueError):
                self.config = ClientConfig.from_json(json.loads(frame.payload), self.config)

    async def _handle(self, ws: ClientConnection, frame: frames.Frame, payload: bytes) -> None:
        kind = frame.header(frames.TYPE) or ""
        if kind != frames.EVENT:
            # Card callbacks: hireops sends no cards. The SDK does not answer them either.
            log.info("long connection: a %r message, not handled", kind)
            return
        self.state.received += 1
        started = time.monotonic()
        try:
            code = await self._handler(kind, payload)
        except Exception:  # the SDK's rule too: a failed handler is a failed delivery
            log.exception("long connection: the event handler failed")
            code = protocol.ACK_FAILED
        ms = int((time.monotonic() - started) * 1000) if code == protocol.ACK_OK else None
        ack = frames.ack(frame, protocol.ack_payload(code), handler_ms=ms)
        if not await self._send_ack(ws, frames.encode(ack)):
            log.info("long connection closed before an ack; Feishu will redeliver the event")

    async def _send_ack(self, ws: ClientConnection, ack: bytes) -> bool:
        """Send ``ack`` with the others that became ready in the same turn of the loop: the
        events of one commit wake together, and their acks leave in one write to the socket
        (``wire.send_many``) instead of one ``send`` each. True once written; False when the
        connection closed first (Feishu redelivers). Nothing is acknowledged before its commit."""
        batch = self._acks
        if batch is not None and batch.ws is ws:
            batch.acks.append(ack)
            return await asyncio.shield(batch.sent)
        batch = self._acks = _AckBatch(ws, [ack], asyncio.get_running_loop().create_future())
        sent = False
        try:
            await asyncio.sleep(0)  # one turn: the handlers woken with this one add theirs
            self._acks = None
            await wire.send_many(ws, batch.acks)
            sent = True
        except ConnectionClosed:
            pass
        finally:
            if self._acks is batch:
                self._acks = None
            batch.sent.set_result(sent)
        return sent


@dataclass
class _AckBatch:
    ws: ClientConnection
    acks: list[bytes]
    sent: asyncio.Future[bool]


class _Silent(Exception):
    pass


def _ended(task: asyncio.Task[None]) -> str:
    exc = task.exception() if not task.cancelled() else None
    if isinstance(exc, _Silent):
        return f"silent: {exc}"
    if isinstance(exc, ConnectionClosed):
        code = exc.rcvd.code if exc.rcvd else None
        return f"closed by Feishu (code {code})" if code else "connection dropped"
    if exc is not None:
        return f"connection failed: {type(exc).__name__}"
    return "closed by Feishu"


def _handshake_refusal(exc: InvalidStatus) -> Refused:
    headers = exc.response.headers
    status = headers.get(protocol.H_STATUS) or str(exc.response.status_code)
    auth = headers.get(protocol.H_AUTH_CODE, "")
    msg = headers.get(protocol.H_MSG, "")
    permanent = status == str(protocol.FORBIDDEN) or (
        status == str(protocol.AUTH_FAILED) and auth == str(protocol.EXCEED_CONN_LIMIT)
    )
    detail = f"handshake refused: {status}" + (f" ({auth})" if auth else "") + (f" {msg}" if msg else "")
    return Refused(detail[:300], permanent)


def _reassembled(frame: frames.Frame, parts: dict[str, tuple[float, list[bytes | None]]]) -> bytes | None:
    """The whole payload once every fragment of its message is in; None until then."""
    try:
        total, seq = int(frame.header(frames.SUM, "1")), int(frame.header(frames.SEQ, "0"))
    except ValueError:
        return None
    if total <= 1:
        return frame.payload or b""
    now = time.monotonic()
    for key in [k for k, (at, _) in parts.items() if now - at > FRAGMENT_TTL]:
        del parts[key]
    if not 0 <= seq < total or total > 10_000:
        return None
    message_id = frame.header(frames.MESSAGE_ID, "")
    _, slots = parts.get(message_id) or (now, cast("list[bytes | None]", [None] * total))
    if len(slots) != total:
        return None
    slots[seq] = frame.payload or b""
    if any(s is None for s in slots):
        parts[message_id] = (now, slots)
        return None
    parts.pop(message_id, None)
    return b"".join(cast("list[bytes]", slots))  # no None left
