"""The webhook as a native ASGI application: what ``config.ingest`` serves.

One event loop per process takes the pushes, verifies them, and waits for the inbox
writer's commit without tying up a thread per request. Django's request machinery
(request objects, middleware, URL resolving) is not involved: Feishu's pushes need none
of it, and it costs more CPU than verifying and storing an event. The rules are the
same as the Django view's, because both end in ``delivery``.
"""

import asyncio
import gc
import json
import logging

from hireops.core.logs import context as log_context
from hireops.feishu import crypto
from hireops.ops import probes

from . import delivery, inbox, loop_writer, verify
from .inbox import writer
from .publisher import publisher
from .rejection_recorder import Origin, recorder

log = logging.getLogger(__name__)

PATH = "/feishu/events/"
_HEADERS = {n.lower().encode(): n for n in (verify.H_TIMESTAMP, verify.H_NONCE, verify.H_SIGNATURE)}
NOT_FOUND = delivery.answer(404, msg=f"not found: Feishu's events go to {PATH}")
NOT_ALLOWED = delivery.answer(405, msg="method not allowed")
_REQUEST_ID = log_context.REQUEST_ID_HEADER.lower().encode()
ALIVE = delivery.Answer(200, json.dumps({"status": "alive"}).encode())


async def _readiness() -> delivery.Answer:
    """The standard probes, and this process's inbox writer: it commits and is not behind."""
    results = await asyncio.to_thread(probes.readiness)
    status, body = probes.report(results, {"inbox_writer": inbox.serving().health()})
    return delivery.Answer(status, json.dumps(body).encode())


async def _read_body(receive, origin: Origin) -> bytes | delivery.Answer | None:
    """The whole body, a 413 past the limit, or None if the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > verify.MAX_BODY_BYTES:
            start = chunks[0] if chunks else chunk
            return delivery.refused(413, "body too large", verify.Kind.TOO_LARGE, origin, start, size)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _drain(receive) -> bool:
    """Read and drop the request's body; True if the client went away meanwhile."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return True
        if not message.get("more_body"):
            return False


async def _handle(scope, receive) -> delivery.Answer | None:
    if scope["path"] != PATH:
        if scope["method"] in ("GET", "HEAD") and scope["path"] == "/healthz":
            return ALIVE
        if scope["method"] in ("GET", "HEAD") and scope["path"] == "/readyz":
            return await _readiness()
        return NOT_FOUND
    client = scope.get("client")
    origin = Origin(client[0] if client else "", scope["headers"])
    if scope["method"] != "POST":
        recorder.note(405, "method not allowed", verify.Kind.METHOD_NOT_ALLOWED, origin=origin)
        return NOT_ALLOWED
    headers, length = {}, None
    for name, value in scope["headers"]:
        if name in _HEADERS:
            headers[_HEADERS[name]] = value.decode("latin-1")
        elif name == b"content-length":
            length = value.decode("latin-1")
    refused = delivery.too_large(length, origin)
    if refused:
        return refused
    shed = delivery.shed(delivery.Channel.WEBHOOK)  # before verifying or decrypting anything
    if shed:
        # The body is read and dropped all the same, so the keep-alive connection goes on.
        return None if await _drain(receive) else shed
    body = await _read_body(receive, origin)
    if body is None or isinstance(body, delivery.Answer):
        return body
    return await delivery.areceive(body, headers, origin)


def _warm_up(thread_writer: bool) -> None:
    """Before the worker takes its first connection (gunicorn runs the lifespan startup first):
    the thread writer's thread and database connection where it serves (no loop writer), the
    broker's connection, and the crypto and JSON code, which the first deliveries of a fresh
    worker would otherwise pay for under load."""
    if thread_writer:
        writer.warm()
    publisher.warm()
    key = "warm-up"
    sealed = crypto.encrypt(json.dumps({"warm": "up"}), key)
    json.loads(crypto.decrypt(sealed, key))
    crypto.verify_signature("0", "n", key, sealed.encode(), crypto.sign("0", "n", key, sealed.encode()))
    # What the start-up loaded (Django, the apps, the libraries) is never garbage: out of the
    # collector's generations, a full collection under load no longer walks it all.
    gc.collect()
    gc.freeze()


async def _lifespan(receive, send) -> None:
    on_loop = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            on_loop = await loop_writer.start()
            await asyncio.to_thread(_warm_up, on_loop is None)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Graceful stop: let the writers finish, then publish what is waiting.
            if on_loop is not None:
                await on_loop.aclose()
            writer.close()
            publisher.flush(5.0)
            recorder.flush(1.0)
            await send({"type": "lifespan.shutdown.complete"})
            return


def _request_id(scope) -> str:
    for name, value in scope["headers"]:
        if name == _REQUEST_ID:
            return log_context.request_id_from(value.decode("latin-1"))
    return log_context.request_id_from(None)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] != "http":
        return None
    # What Django's RequestIdMiddleware does for the admin, at the cost of a contextvar.
    request_id = _request_id(scope)
    token = log_context.push(request_id=request_id)
    try:
        answer = await _handle(scope, receive)
    finally:
        log_context.pop(token)
    if answer is None:  # the client disconnected before sending its body
        return None
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(answer.body)).encode()),
        (_REQUEST_ID, request_id.encode()),
    ]
    if scope["path"] != PATH:  # health answers are never cached
        headers.append((b"cache-control", b"no-store"))
    if answer is NOT_ALLOWED:
        headers.append((b"allow", b"POST"))
    headers += [(name.lower().encode(), value.encode()) for name, value in answer.headers]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
    return None
