"""How lines look: ``plain`` (the format hireops always had) or ``json`` (one object a line).

JSON lines come from python-json-logger: time, level, logger, message, process, thread, the
ids bound in ``context`` and any ``extra`` a call passed, and an exception under
``exception``. ``logging_config`` builds the ``LOGGING`` dict every process uses (the admin,
the ingest server, Celery's worker and beat).
"""

import logging
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _site_zone() -> tzinfo | None:
    """The site's zone (TIME_ZONE), where Django's settings are loaded; else the process's own
    (gunicorn's master, honcho: ``./dev run`` sets TZ to the site's zone for them)."""
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE) if settings.configured and settings.TIME_ZONE else None


class PlainFormatter(logging.Formatter):
    """People read these lines beside the admin's pages: the time in the site's zone, which it
    says ("2026-11-28 10:00:00.123+08:00")."""

    @cached_property
    def zone(self) -> tzinfo | None:
        # Read at the first line, not when logging is configured: that happens while the
        # settings are imported, and no setting is read during an import.
        return _site_zone()

    def formatTime(self, record, datefmt=None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC).astimezone(self.zone)
        return moment.isoformat(sep=" ", timespec="milliseconds")


class JsonFormatter(_JsonFormatter):
    def __init__(self, **kwargs):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d %(thread)d",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "exc_info": "exception",
                "stack_info": "stack",
            },
            json_ensure_ascii=False,  # Chinese messages stay readable
            **kwargs,
        )

    def formatTime(self, record, datefmt=None) -> str:
        # ISO 8601 in UTC, to the millisecond: the same in every process (Django sets TIME_ZONE in
        # its processes only, not in gunicorn's master) and sortable as text.
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")

    def add_fields(self, log_data, record, message_dict) -> None:
        if record.exc_text:  # the redacted traceback (RedactingFilter), not a fresh one
            message_dict["exc_info"] = record.exc_text
        super().add_fields(log_data, record, message_dict)


def logging_config(log_format: str, level: str) -> dict:
    """The ``LOGGING`` dict: one console handler on the root logger, ids added, data redacted."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "hireops.core.logs.context.ContextFilter"},
            "redact": {"()": "hireops.core.logs.redaction.RedactingFilter"},
        },
        "formatters": {
            "plain": {"()": "hireops.core.logs.formatting.PlainFormatter", "fmt": PLAIN_FORMAT},
            "json": {"()": "hireops.core.logs.formatting.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "redact"],  # in this order: the ids are redacted too
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's own handlers (its console one with DEBUG on, runserver's, mail to ADMINS)
        # would write its lines unmasked, and not as JSON: everything goes through ours.
        "loggers": {
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": ["console"], "propagate": False},
        },
    }
    return config
