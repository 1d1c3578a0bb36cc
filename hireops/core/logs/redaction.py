"""The last stop before a handler writes: no mobile, email or secret in what it writes.

The rules are ``hireops.core.privacy.scrubbing``'s, the ones error reports follow; the ids of
``context.IDS`` are left alone (checked where they come in). The record is changed in place
(Python 3.11's filters cannot return a copy), which suits the handlers that come after ours:
Sentry's logging integration scrubs by the same rules anyway.
"""

import logging
import traceback

from hireops.core.privacy.scrubbing import scrub, scrub_text

from .context import IDS

# A record's own attributes; anything else on it came as ``extra`` or from the context.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_PLAIN_VALUES = (str, int, float, bool, type(None), dict, list, tuple)


def _scrubbed_extra(key: str, value):
    if not isinstance(value, _PLAIN_VALUES):  # a request object, say: what a formatter would write
        value = str(value)
    return scrub(value, key)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format call: the handler reports it as logging always has
            return True
        record.msg, record.args = scrub_text(message), None
        if record.exc_info or record.exc_text:
            # Formatters write exc_text when it is set (our JSON one too); a traceback another
            # handler formatted before us is scrubbed as well.
            record.exc_text = scrub_text(record.exc_text or format_exception(record.exc_info))
        for key in record.__dict__.keys() - _STANDARD - IDS:
            record.__dict__[key] = _scrubbed_extra(key, record.__dict__[key])
        return True


def format_exception(exc_info) -> str:
    """The traceback as ``logging.Formatter.formatException`` writes it, without Python
    3.11's carets under each frame's line (``~~~^^^``). Placing them parses every frame's
    source line (``ast``): about a millisecond a traceback, on every refused admin lookup,
    and not thread-safe in Python 3.11.7 (two threads at once raise SystemError: the record
    would be lost to a threaded worker's error)."""
    error = traceback.TracebackException(*exc_info)
    pending, seen = [error], set()
    while pending:  # the exception, its cause and context, a group's members, each once
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for frame in current.stack:
            frame.colno = frame.end_colno = None
        pending += [e for e in (current.__cause__, current.__context__, *(current.exceptions or ())) if e]
    return "".join(error.format()).removesuffix("\n")
