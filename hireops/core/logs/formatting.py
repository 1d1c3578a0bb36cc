"""How lines look: ``plain`` (the format hireops always had) or ``json`` (one object a line).

JSON lines come from python-json-logger: time, level, logger, message, process, thread, the
ids bound in ``context`` and any ``extra`` a call passed, and an exception under
``exception``. ``logging_config`` builds the ``LOGGING`` dict every process uses (the admin,
the ingest server, Celery's worker and beat).
"""

from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


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
            "plain": {"format": PLAIN_FORMAT},
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
