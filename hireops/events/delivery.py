"""Take one delivery in: verify it, store it, say what to answer. Transport-free.

The ASGI endpoint (``asgi.py``, what production runs) awaits ``areceive``; the Django
view (runserver, the test client, plain WSGI deployments) calls ``receive``. The two
differ only in how they wait for the commit. The long-connection listener (``listener.py``)
stores through the same ``astore`` and turns its outcome into an acknowledgement. Every
refusal is noted for the log of rejected deliveries (``rejection_recorder``), given where it
came from (``Origin``).
"""

import enum
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from hireops.core.logs import log_scope
from hireops.ops import metrics, pressure

from . import inbox, verify
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


class Stored(enum.StrEnum):
    """What became of a verified delivery: the same four outcomes on both channels."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    OVERLOADED = "overloaded"  # the inbox writer is behind: refused before queueing
    UNAVAILABLE = "unavailable"  # the database failed

    @property
    def kept(self) -> bool:
        """Committed (now or before): the delivery may be acknowledged."""
        return self in (Stored.STORED, Stored.DUPLICATE)


class Channel(enum.Enum):
    """How Feishu delivered the event: each counts in its own metric, and the long connection
    is named in the log line (the webhook's lines are the established ones)."""

    WEBHOOK = ""
    LONG_CONNECTION = " (long connection)"

    @property
    def via(self) -> str:
        """The channel's name in the commit's log line."""
        return "webhook" if self is Channel.WEBHOOK else "long connection"

    def count(self, outcome: str, reason: str = "") -> None:
        if self is Channel.WEBHOOK:
            metrics.deliveries.labels(outcome, reason).inc()
        else:
            metrics.longconn_events.labels(outcome).inc()


def _kept(envelope: verify.Envelope, created: bool, channel: Channel) -> Stored:
    # At INFO the commit's line names every delivery it kept, with its request id
    # (``inbox.log_kept``): one line a batch. A line a delivery, in its request's context,
    # is DEBUG's: at INFO it cost the ingest server an eighth of its CPU.
    outcome = Stored.STORED if created else Stored.DUPLICATE
    if log.isEnabledFor(logging.DEBUG):
        said = "stored" if created else "duplicate, already stored"
        log.debug("feishu event %s (%s) %s%s", envelope.event_id, envelope.event_type, said, channel.value)
    channel.count(outcome)
    return outcome


def _overloaded(channel: Channel) -> Stored:
    """Refused because the inbox writer is behind, before or after the body was verified."""
    pressure.note_inbox_refusal()
    channel.count(Stored.OVERLOADED)
    return Stored.OVERLOADED


def _not_kept(envelope: verify.Envelope, exc: DatabaseError, channel: Channel) -> Stored:
    """Not stored, so not acknowledged: Feishu delivers it again (15 s, 5 min, 1 h, 6 h)."""
    if isinstance(exc, Overloaded):
        return _overloaded(channel)
    pressure.note_inbox_refusal()
    channel.count(Stored.UNAVAILABLE, type(exc).__name__)
    # The type and SQLSTATE only: a database's message can quote the payload (personal data).
    cause = getattr(exc.__cause__, "sqlstate", None) or ""
    name = type(exc).__name__
    log.error("feishu event %s not stored%s: %s %s", envelope.event_id, channel.value, name, cause)
    return Stored.UNAVAILABLE


def store(envelope: verify.Envelope, channel: Channel = Channel.WEBHOOK) -> Stored:
    """Store one verified delivery through the inbox writer, waiting in this thread."""
    with log_scope(event_id=envelope.event_id):
        try:
            created = event_store(envelope, channel.via)
        except DatabaseError as exc:
            return _not_kept(envelope, exc, channel)
        return _kept(envelope, created, channel)


async def astore(envelope: verify.Envelope, channel: Channel = Channel.WEBHOOK) -> Stored:
    """The same, awaiting the writer's commit on the event loop (the ingest server, the listener)."""
    with log_scope(event_id=envelope.event_id):
        try:
            created = await aevent_store(envelope, channel.via)
        except DatabaseError as exc:
            return _not_kept(envelope, exc, channel)
        return _kept(envelope, created, channel)


def shed(channel: Channel) -> Answer | None:
    """``OVERLOADED`` when the inbox writer is behind, decided before the body is read,
    verified or decrypted (its cost would be spent in vain); None otherwise. Unverified, so a
    URL check is refused too while overloaded: the console's check is simply asked again."""
    if not inbox.serving().refuses_now():
        return None
    _overloaded(channel)
    return OVERLOADED


# The webhook's answer to each outcome.
ANSWERS = {
    Stored.STORED: SUCCESS,
    Stored.DUPLICATE: SUCCESS,
    Stored.OVERLOADED: OVERLOADED,
    Stored.UNAVAILABLE: UNAVAILABLE,
}


def receive(raw: bytes, headers, origin: Origin | None = None) -> Answer:
    """``headers`` maps Feishu's header names (``X-Lark-Signature``…) to values."""
    shed_answer = shed(Channel.WEBHOOK)
    if shed_answer:
        return shed_answer
    envelope = _verified(raw, headers, origin)
    if isinstance(envelope, Answer):
        return envelope
    return ANSWERS[store(envelope)]


async def areceive(raw: bytes, headers, origin: Origin | None = None) -> Answer:
    envelope = _verified(raw, headers, origin)
    if isinstance(envelope, Answer):
        return envelope
    return ANSWERS[await astore(envelope)]
