"""Celery's worker and beat log like every other process, and a task's lines carry its ids.

Left alone, Celery replaces the root logger's handlers with its own format (its
``worker_hijack_root_logger``); a ``setup_logging`` receiver makes it leave logging to us, and
we apply settings.LOGGING. ``task`` and ``task_id`` are bound between task_prerun and
task_postrun, in the thread that runs the task (an eager task: the caller's, restored after).
"""

import logging
import logging.config
from contextvars import Token

from celery import signals

from .context import pop, push

_scopes: dict[str, Token] = {}  # task_id → the context token to restore at task_postrun


def _setup_logging(loglevel=None, **kwargs) -> None:
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    root = logging.getLogger()
    if loglevel and loglevel < root.level:  # `celery worker --loglevel=DEBUG` still shows more
        root.setLevel(loglevel)


def _quiet_banner_for_json(instance=None, **kwargs) -> None:
    from django.conf import settings

    if getattr(settings, "LOG_FORMAT", "plain") == "json" and instance is not None:
        instance.quiet = True  # the worker's start banner is not a JSON line


def _bind_task(task_id=None, task=None, **kwargs) -> None:
    _scopes[task_id] = push(task=task.name, task_id=task_id)


def _unbind_task(task_id=None, **kwargs) -> None:
    token = _scopes.pop(task_id, None)
    if token is not None:
        pop(token)


def connect() -> None:
    """Called by config/celery.py, which every worker, beat and producer imports."""
    signals.setup_logging.connect(_setup_logging, weak=False)
    signals.celeryd_init.connect(_quiet_banner_for_json, weak=False)
    signals.task_prerun.connect(_bind_task, weak=False)
    signals.task_postrun.connect(_unbind_task, weak=False)
