"""The Celery app: configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery

from hireops.core.logs import celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hireops.settings")

app = Celery("hireops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Worker and beat log through settings.LOGGING (not Celery's own format); tasks' lines carry
# the task's name and id.
celery_signals.connect()
