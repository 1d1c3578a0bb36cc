"""The webhook as a native ASGI application: what ``hireops.ingest`` serves.

One event loop per process takes the pushes, verifies them, and waits for the inbox
writer's commit without tying up a thread per request. Django's request machinery
(request objects, middleware, URL resolving) is not involved: Feishu's pushes need none
of it, and it costs more CPU than verifying and storing an event. The rules are the
same as the Django view's, because both end in ``ingest``.
"""

import logging

from . import ingest, verify
from .inbox import writer
from .publisher import publisher
from .rejection_recorder import Origin, recorder

log = logging.getLogger(__name__)

PATH = "/feishu/events/"
_HEADERS = {n.lower().encode(): n for n in (verify.H_TIMESTAMP, verify.H_NONCE, verify.H_SIGNATURE)}
NOT_FOUND = ingest.answer(404, msg=f"not found: Feishu's events go to {PATH}")
NOT_ALLOWED = ingest.answer(405, msg="method not allowed")


async def _read_body(receive, origin: Origin) -> bytes | ingest.Answer | None:
    """The whole body, a 413 past the limit, or None if the client went away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > verify.MAX_BODY_BYTES:
            start = chunks[0] if chunks else chunk
            return ingest.refused(413, "body too large", verify.Kind.TOO_LARGE, origin, start, size)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _handle(scope, receive) -> ingest.Answer | None:
    if scope["path"] != PATH:
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
    refused = ingest.too_large(length, origin)
    if refused:
        return refused
    body = await _read_body(receive, origin)
    if body is None or isinstance(body, ingest.Answer):
        return body
    return await ingest.areceive(body, headers, origin)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Graceful stop: publish what is waiting, then let the writer finish.
            publisher.flush(5.0)
            writer.close()
            recorder.flush(1.0)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] != "http":
        return None
    answer = await _handle(scope, receive)
    if answer is None:  # the client disconnected before sending its body
        return None
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer.body)).encode())]
    if answer is NOT_ALLOWED:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
    return None
