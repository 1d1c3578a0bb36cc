"""A worker keeps its database connection across tasks, as a web process keeps it across
requests: Celery's Django fixup would close it around every task (a new PostgreSQL backend per
task, paid in the database's CPU the ingest server shares). Django's own rule decides instead
(CONN_MAX_AGE, health checks)."""

from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)  # outside a test transaction, as a worker is


class _Task:  # what the signals' sender is: a task, hashable, with its request
    def __init__(self, eager: bool):
        self.request = SimpleNamespace(is_eager=eager)


def _a_task(eager: bool = False):
    return _Task(eager)


def _backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 1")
        return cursor.fetchone()[0]


def _around_a_task(fixup: DjangoWorkerFixup, sender) -> None:
    """What a worker runs around a task: the fixup's handlers, then every receiver of the signals."""
    fixup.on_task_prerun(sender)
    task_prerun.send(sender=sender, task_id="t", task=sender)
    fixup.on_task_postrun(sender)
    task_postrun.send(sender=sender, task_id="t", task=sender)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="kept connections (CONN_MAX_AGE) are PostgreSQL's"
)
def test_a_connection_outlives_a_task_and_is_closed_past_its_age(settings):
    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max, "CELERY_DB_REUSE_MAX is read by Celery's fixup"
    before = _backend()
    for _ in range(5):
        _around_a_task(fixup, _a_task())
    assert connection.connection is not None and _backend() == before

    connection.close_at = 0  # past CONN_MAX_AGE: Django's rule closes it at the next task
    _around_a_task(fixup, _a_task())
    assert connection.connection is None


def test_an_eager_task_leaves_the_callers_connection_alone():
    connection.ensure_connection()
    connection.close_at = 0
    _around_a_task(DjangoWorkerFixup(app), _a_task(eager=True))
    assert connection.connection is not None
