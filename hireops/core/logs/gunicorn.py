"""gunicorn's own lines (its error log, and the access log when one is asked for): masked like
every other line, in either format.

``gunicorn.conf.py`` names ``RedactingLogger`` (``LOG_FORMAT=plain``: gunicorn's own format)
or ``JsonLogger`` (``LOG_FORMAT=json``). gunicorn still decides where its lines go
(``--error-logfile``, ``--access-logfile``, syslog); only their format and filters become
ours, so an ingest server without an access log still writes none. An access line is masked
as a whole, after gunicorn wrote it: its request line, its referer and whatever a custom
``--access-logformat`` adds (``hireops.core.privacy.scrubbing``: query values, secret path segments,
mobiles, emails, tokens).
"""

import logging

from gunicorn import glogging

from .context import REQUEST_ID_HEADER, ContextFilter
from .formatting import JsonFormatter
from .redaction import RedactingFilter

_REQUEST_ID_ATOM = f"{{{REQUEST_ID_HEADER.lower()}}}o"  # a response header, as gunicorn's atoms name it


class AccessRequestId(logging.Filter):
    """An access line is written after the answer, outside the request: its request id comes
    from the response's X-Request-ID header (the admin's and the ingest server's both send one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and _REQUEST_ID_ATOM in record.args:
            record.request_id = record.args[_REQUEST_ID_ATOM]
        return True


class RedactingLogger(glogging.Logger):
    """gunicorn's lines in gunicorn's format, masked."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                for log_filter in self._filters(logger):
                    handler.addFilter(log_filter)

    def _filters(self, logger) -> list[logging.Filter]:
        return [RedactingFilter()]


class JsonLogger(RedactingLogger):
    """gunicorn's lines as JSON, with the ids of the request, masked."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(formatter)

    def _filters(self, logger) -> list[logging.Filter]:
        filters = [ContextFilter(), RedactingFilter()]  # in this order: the ids are redacted too
        if logger is self.access_log:
            filters.insert(0, AccessRequestId())  # before redaction turns the atoms into text
        return filters
