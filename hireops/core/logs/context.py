"""What the current thread or task is doing, for every log record it writes.

A contextvar holds a small dict (never changed in place: each change sets a new one), so a
thread, an asyncio task or a Celery task sees only its own ids, and a scope puts back what
was there before when it ends.
"""

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType

from hireops.core.privacy.scrubbing import scrub_text

_fields: ContextVar[Mapping[str, str]] = ContextVar("hireops_log_fields", default=MappingProxyType({}))

# The ids this module binds, and the Feishu call's (hireops.feishu.http): ours or Feishu's,
# never personal data, so the redaction filter leaves them as they are. ``events``: the inbox
# commit's line (hireops.events.inbox.log_kept), ids only (event id and type, outcome, channel,
# request id); scrubbing its every value cost half of that line.
IDS = frozenset({"request_id", "event_id", "task", "task_id", "feishu_log_id", "feishu_endpoint", "events"})

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is a short token: it is written into every log line and
# echoed in a header, so nothing that could carry data, markup or a line break.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def current() -> Mapping[str, str]:
    return _fields.get()


def bind(**fields: str) -> None:
    """Add ids for the rest of the enclosing ``log_scope`` (one known only half-way through)."""
    _fields.set({**_fields.get(), **fields})


def push(**fields: str) -> Token:
    """``bind`` that can be undone: ``pop(token)`` puts back what was bound before."""
    return _fields.set({**_fields.get(), **fields})


def pop(token: Token) -> None:
    _fields.reset(token)


@contextmanager
def log_scope(**fields: str) -> Iterator[None]:
    """Ids for the records written inside; what was bound before comes back on exit."""
    token = push(**fields)
    try:
        yield
    finally:
        pop(token)


def request_id_from(incoming: str | None) -> str:
    """The caller's request id when it is a sane token (a proxy's, a load balancer's), else a new one."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming) and scrub_text(incoming) == incoming:
        return incoming  # (the last test refuses a mobile number sent as an id)
    # 128 random bits as 32 hex digits, a UUID4's hex without its version bits: a fifth of
    # uuid.uuid4().hex's cost (0.35 against 1.7 us, once a delivery on the ingest's hot path).
    return os.urandom(16).hex()


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record; an id passed as ``extra`` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _fields.get().items():
            record.__dict__.setdefault(key, value)
        if "request_id" not in record.__dict__:
            # Django logs a 4xx answer ("Not Found: …") once the middleware has returned, with
            # the request as ``extra``; RequestIdMiddleware left the id on it.
            request_id = getattr(getattr(record, "request", None), "request_id", None)
            if isinstance(request_id, str):
                record.request_id = request_id
        return True
