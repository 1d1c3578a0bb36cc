"""The Celery app (``celery -A config``): configuration comes from Django settings (``CELERY_*``).

No task is defined here: every task lives in its app's or platform package's ``tasks.py`` and
keeps the name it was registered with (``autodiscover_tasks`` finds them in INSTALLED_APPS)."""

import logging
import os

from celery import Celery, platforms
from celery.apps.beat import Beat
from celery.signals import task_postrun, task_prerun, worker_init
from django.db import close_old_connections
from kombu.utils.objects import cached_property

from hireops.core.logs import celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class StoppableBeat(Beat):
    """``celery beat`` whose SIGTERM and SIGINT only stop it.

    Celery's own handler saves the schedule inside the handler, on whatever the main thread was
    doing when the signal landed. In a query, that is psycopg's connection lock held, which is not
    reentrant: the save waits for it forever and ``docker stop`` ends in SIGKILL. While the
    scheduler is being built, the handler builds a second one from the same query. Raising is
    enough: psycopg cancels the query it was in, and Service.start's ``finally`` saves the
    schedule once the main thread is out of it. Before that loop starts nothing needs saving.
    """

    def install_sync_handler(self, service) -> None:
        def stop(signum, frame):
            raise SystemExit()

        platforms.signals.update(SIGTERM=stop, SIGINT=stop)


class HireopsCelery(Celery):
    @cached_property
    def Beat(self):  # Celery's name for it
        return self.subclass_with_self(StoppableBeat)


app = HireopsCelery("hireops")  # the product's name, not this module's: the app's identity is unchanged
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Worker and beat log through settings.LOGGING (not Celery's own format); tasks' lines carry
# the task's name and id.
celery_signals.connect()


# Celery's Django fixup closes a worker's database connection before and after every task
# (settings: CELERY_DB_REUSE_MAX turns that off): a new PostgreSQL backend per task, a fork
# and a cold catalogue cache paid in the database's CPU, which the ingest server shares.
# Django's own rule decides instead, around each task as around each request: CONN_MAX_AGE,
# CONN_HEALTH_CHECKS, and a connection left unusable by the task closed.
@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs):
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


def run_only_when_idle() -> bool:
    """Every thread of this process under SCHED_IDLE, and so every thread and child it starts
    (they inherit their creator's policy): the kernel runs them only on CPU no other process
    wants, and preempts them as soon as one does. Lowering a policy needs no privilege.
    False where the platform has no SCHED_IDLE (the worker then runs as it would without)."""
    if not hasattr(os, "SCHED_IDLE") or not os.path.isdir("/proc/self/task"):
        return False
    for tid in os.listdir("/proc/self/task"):
        os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
    return True


@worker_init.connect
def _yield_the_cpu(**kwargs):
    from django.conf import settings

    if settings.WORKER_CPU_IDLE and not run_only_when_idle():
        logging.getLogger(__name__).warning("WORKER_CPU_IDLE: this platform has no SCHED_IDLE")
