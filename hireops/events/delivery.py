"""Take one delivery in: verify it, store it, say what to answer. Transport-free.

The ASGI endpoint (``asgi.py``, what production runs) awaits ``areceive``; the Django
view (runserver, the test client, plain WSGI deployments) calls ``receive``. The two
differ only in how they wait for the commit. Every refusal is noted for the log of
rejected deliveries (``rejection_recorder``), given where it came from (``Origin``).
"""

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from hireops.core.logs import log_scope
from hireops.ops import metrics, pressure

from . import verify
from .inbox import Overloaded
from .rejection_recorder import Origin, recorder
from .services import aevent_store, event_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def answer(status: int, headers=(), **body) -> Answer:
    return Answer(status, json.dumps(body, ensure_ascii=False).encode(), tuple(headers))


SUCCESS = answer(200, msg="success")
# Not stored, so not acknowledged: Feishu retries (15 s, 5 min, 1 h, 6 h).
UNAVAILABLE = answer(503, msg="temporarily unavailable")
# Refused before queueing because the writer is behind: nothing stored, retry soon.
OVERLOADED = answer(503, headers=[("Retry-After", "15")], msg="overloaded, retry later")


def refused(
    status: int, reason: str, kind: verify.Kind, origin: Origin | None, body: bytes = b"", body_size=None
) -> Answer:
    """The answer to a refused delivery, counted (metrics) and noted for the log of rejected
    deliveries."""
    metrics.deliveries.labels("rejected", kind.value).inc()
    recorder.note(status, reason, kind, body, origin, body_size)
    return answer(status, msg=reason)


def too_large(content_length, origin: Origin | None = None) -> Answer | None:
    """Refuse a declared body over the limit before reading it."""
    if content_length and str(content_length).isdigit() and int(content_length) > verify.MAX_BODY_BYTES:
        return refused(413, "body too large", verify.Kind.TOO_LARGE, origin, body_size=int(content_length))
    return None


def _verified(raw: bytes, headers, origin: Origin | None) -> Answer | verify.Envelope:
    try:
        result = verify.parse(
            raw,
            headers,
            encrypt_key=settings.FEISHU_ENCRYPT_KEY,
            verification_token=settings.FEISHU_VERIFICATION_TOKEN,
        )
    except verify.Rejected as exc:
        log.info("feishu event rejected: %s %s", exc.status, exc.reason)
        return refused(exc.status, exc.reason, exc.kind, origin, raw)
    if isinstance(result, verify.Challenge):
        metrics.deliveries.labels("challenge", "").inc()
        return answer(200, challenge=result.challenge)
    return result


def _stored(envelope: verify.Envelope, created: bool) -> Answer:
    # One line per delivery, so a delivery can be found by its event id (the ids are no data).
    outcome = "stored" if created else "duplicate, already stored"
    log.info("feishu event %s (%s) %s", envelope.event_id, envelope.event_type, outcome)
    metrics.deliveries.labels("stored" if created else "duplicate", "").inc()
    return SUCCESS


def _not_stored(envelope: verify.Envelope, exc: DatabaseError) -> Answer:
    pressure.note_inbox_refusal()
    if isinstance(exc, Overloaded):
        metrics.deliveries.labels("overloaded", "").inc()
        return OVERLOADED
    metrics.deliveries.labels("unavailable", type(exc).__name__).inc()
    log_not_stored(envelope, exc)
    return UNAVAILABLE


def log_not_stored(envelope: verify.Envelope, exc: DatabaseError, level: int = logging.ERROR) -> None:
    """The type and SQLSTATE only: a database's message can quote the payload (personal data)."""
    cause = getattr(exc.__cause__, "sqlstate", None) or ""
    log.log(level, "feishu event %s not stored: %s %s", envelope.event_id, type(exc).__name__, cause)


def receive(raw: bytes, headers, origin: Origin | None = None) -> Answer:
    """``headers`` maps Feishu's header names (``X-Lark-Signature``…) to values."""
    envelope = _verified(raw, headers, origin)
    if isinstance(envelope, Answer):
        return envelope
    with log_scope(event_id=envelope.event_id):
        try:
            created = event_store(envelope)
        except DatabaseError as exc:
            return _not_stored(envelope, exc)
        return _stored(envelope, created)


async def areceive(raw: bytes, headers, origin: Origin | None = None) -> Answer:
    envelope = _verified(raw, headers, origin)
    if isinstance(envelope, Answer):
        return envelope
    with log_scope(event_id=envelope.event_id):
        try:
            created = await aevent_store(envelope)
        except DatabaseError as exc:
            return _not_stored(envelope, exc)
        return _stored(envelope, created)
