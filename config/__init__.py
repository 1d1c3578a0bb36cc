"""The composition root: settings, URLs, the Celery app and the servers' entry points (wsgi,
ingest), the only modules that name every app. Nothing under ``hireops/`` or the apps imports
them.

The Celery app is loaded with the settings (Django imports this package first), so every
``shared_task`` binds to it; ``celery -A config`` finds it here.
"""

from .celery import app as celery_app

__all__ = ("celery_app",)
