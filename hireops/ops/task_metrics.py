"""Celery task outcomes and run times, counted from Celery's signals (hireops.ops.metrics)."""

import time

from celery import signals

from . import metrics

_started: dict[str, float] = {}


@signals.task_prerun.connect
def _prerun(task_id=None, **kwargs):
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _postrun(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    metrics.tasks.labels(name, (state or "unknown").lower()).inc()
    if started is not None:
        metrics.task_seconds.labels(name).observe(time.monotonic() - started)
