"""A task by its registered name, for the modules its own ``tasks`` module imports.

An app's ``tasks`` module imports its services (the task runs them); a service that queues a
task must not import ``tasks`` back, or the package has an import cycle (the contract "No
import cycle inside a package" in pyproject.toml refuses one). It asks for the task by the
name in its decorator instead: ``task_named("<app>.<task>").delay(pk)``. The name is the
trail a reader follows (a search finds its ``name="<app>.<task>"``); the task is the very
object Celery registered, so ``delay``, eager mode and a test's patch of it behave as before.
An outbound kind's row is sent with ``KIND.send`` / ``KIND.send_on_commit`` (the same lookup).
"""

from importlib import import_module
from typing import Any

from celery import Task, current_app
from django.apps import apps


def task_named(name: str) -> "Task[Any, Any]":
    """The task registered as ``name`` ("<app label>.<task>"). Outside a worker Celery imports
    no tasks module by itself: the one of the app the name starts with is imported here (that
    one only: the ingest server queues its events without loading every app's tasks)."""
    tasks = current_app.tasks
    if name not in tasks:
        import_module(f"{apps.get_app_config(name.split('.', 1)[0]).name}.tasks")
    return tasks[name]
