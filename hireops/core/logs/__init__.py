"""Logs: plain or JSON lines (``LOG_FORMAT``), with the ids that let one request, event, task or
Feishu call be followed across processes, and without personal data or secrets.

- ``context``: the ids of what this thread / task is doing (``request_id``, ``event_id``,
  ``task``, ``task_id``), kept in a contextvar and added to every record by a filter;
- ``redaction``: a filter that masks mobiles and emails and cuts secrets out of the final
  message, the exception and extra fields (``hireops.core.privacy.scrubbing``);
- ``formatting``: the JSON formatter and the ``LOGGING`` dict the settings use;
- ``middleware``: the admin's request id; ``celery_signals``: the worker's and beat's logging,
  and the task's ids; ``gunicorn``: gunicorn's own lines in JSON.

Imported by the settings (formatting), so nothing here imports Django models.
"""

from .context import bind, current, log_scope, request_id_from

__all__ = ["bind", "current", "log_scope", "request_id_from"]
