"""Events over the long connection (``manage.py feishu_listen``): the same inbox as the webhook.

Each event is verified as far as the channel allows (``verify.parse_long_connection``),
stored exactly as a webhook delivery is (``delivery.astore``: the inbox writer, the same dedupe
on the event id, batching, dispatch to the ``events`` queue, counting and log lines) and
acknowledged with 200 only once its row is committed; anything else is acknowledged 500, and
Feishu delivers it again (15 s, 5 min, 1 h, 6 h). The writer gives up after 2 s, inside Feishu's 3 s.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime
from http import HTTPStatus

from django.conf import settings

from hireops.feishu.longconn import protocol
from hireops.feishu.longconn.client import LinkState, LongConnClient
from hireops.ops import heartbeat, link_state, probes
from hireops.ops.models import ProcessKind

from . import inbox, loop_writer, read_deadline, verify
from .delivery import Channel, astore
from .inbox import writer
from .publisher import publisher
from .rejection_recorder import Origin, recorder

log = logging.getLogger(__name__)

ORIGIN = Origin("long connection", ())


async def receive(kind: str, payload: bytes) -> int:
    """Store one event; the acknowledgement's code (200: committed)."""
    try:
        envelope = verify.parse_long_connection(payload, encrypt_key=settings.FEISHU_ENCRYPT_KEY)
    except verify.Rejected as exc:
        log.info("feishu event over the long connection rejected: %s", exc.reason)
        Channel.LONG_CONNECTION.count("rejected")
        recorder.note(exc.status, exc.reason, exc.kind, payload, ORIGIN)
        return protocol.ACK_FAILED
    stored = await astore(envelope, Channel.LONG_CONNECTION)
    return protocol.ACK_OK if stored.kept else protocol.ACK_FAILED


# --- the process: the link, its health endpoint, its heartbeat ----------------------------------
def link_health(state: LinkState) -> dict:
    since = datetime.fromtimestamp(state.since, UTC).isoformat(timespec="seconds")
    if state.connected:
        return {"ok": True, "detail": "", "connection": state.connection_id, "since": since}
    return {"ok": False, "detail": state.reason, "since": since, "reconnects": state.reconnects}


def heartbeat_state(state: LinkState) -> tuple[str, datetime]:
    return link_state.stored(state.connected, state.reason), datetime.fromtimestamp(state.since, UTC)


async def _readiness(client: LongConnClient) -> tuple[int, dict]:
    results = await asyncio.to_thread(probes.readiness)
    return probes.report(
        results, {"long_connection": link_health(client.state), "inbox_writer": inbox.serving().health()}
    )


async def _answer_health(client: LongConnClient, reader, writer_) -> None:
    """A minimal HTTP/1.0 answer to GET /healthz and /readyz (probes; nothing else is served)."""
    try:
        writer_.write(await _health_answer(client, reader))
        await writer_.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer_.close()


async def _health_answer(client: LongConnClient, reader) -> bytes:
    """A 408 for headers that have not arrived within the read deadline; a body is never read."""
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), read_deadline.seconds())
    except TimeoutError:
        read_deadline.cut_off("listen", "headers")
        return read_deadline.answer("1.0")
    method, path, *_ = [*request.split(b"\r\n", 1)[0].decode("latin-1").split(" "), "", ""]  # type: ignore[misc]
    if method not in ("GET", "HEAD"):
        status, body = 405, {"msg": "method not allowed"}
    elif path == "/healthz":
        status, body = 200, {"status": "alive"}
    elif path == "/readyz":
        status, body = await _readiness(client)
    else:
        status, body = 404, {"msg": "not found: /healthz or /readyz"}
    data = json.dumps(body).encode()
    head = (
        f"HTTP/1.0 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + (data if method != "HEAD" else b"")


async def serve(stop: asyncio.Event, *, health_bind: str, name: str) -> None:
    """Hold the long connection until ``stop`` is set; then finish what is in hand."""
    client = LongConnClient(
        settings.FEISHU_BASE_URL,
        settings.FEISHU_APP_ID,
        settings.FEISHU_APP_SECRET,
        receive,
        on_change=lambda state: heartbeat.poke(),
    )
    host, _, port = health_bind.rpartition(":")
    health = await asyncio.start_server(
        lambda r, w: _answer_health(client, r, w), host or "127.0.0.1", int(port)
    )
    beating = heartbeat.start(name, ProcessKind.LISTENER, state=lambda: heartbeat_state(client.state))
    on_loop = None
    try:
        on_loop = await loop_writer.start()
        await client.run(stop)
    finally:
        health.close()
        # The writers finish what they hold, then stored rows are published to the queue.
        if on_loop is not None:
            await on_loop.aclose()
        await asyncio.to_thread(writer.close)
        await asyncio.to_thread(publisher.flush, 5.0)
        await asyncio.to_thread(recorder.flush, 1.0)
        await asyncio.to_thread(heartbeat.stop, [beating])
