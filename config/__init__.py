"""The composition root: settings, URLs, the Celery app, the servers' entry points (wsgi,
ingest) and every process's start (startup), the only modules that name every app. Nothing
under ``hireops/`` or the apps imports them.

The Celery app is loaded with the settings (Django imports this package first), so every
``shared_task`` binds to it; ``celery -A config`` finds it here.
"""

from . import startup

startup.pause()  # until every app is ready (config.startup.apps): the start's objects walked once

from .celery import app as celery_app  # noqa: E402  (after the pause: the start's first imports)

__all__ = ("celery_app",)
