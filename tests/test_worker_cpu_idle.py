"""WORKER_CPU_IDLE: a worker whose work may wait (the webhooks' deliveries) runs every thread
under SCHED_IDLE, so on a host it shares with the ingest server it takes only CPU nothing else
wants (bench/webhooks.py measures what that keeps of the ingest's throughput)."""

import os
import sys

import pytest

from config.celery import app

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")


def _policies(pid: int) -> set[int]:
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def _running_a_task(wait_until):
    """The worker ready and a task run: the threads pool starts its threads for tasks."""
    wait_until(lambda: "ready." in wait_until.log_path.read_text(), what="the worker ready")
    app.send_task("webhooks.send_due")
    wait_until(lambda: "succeeded" in wait_until.log_path.read_text(), what="a task run")


def test_every_thread_of_an_idle_worker_runs_only_when_the_cpu_is_idle(start_celery_worker):
    wait_until = start_celery_worker(pool="threads", WORKER_CPU_IDLE="1")
    _running_a_task(wait_until)
    assert (
        len(os.listdir(f"/proc/{wait_until.proc.pid}/task")) > 2
    )  # a pool's thread, started after the policy was set
    assert _policies(wait_until.proc.pid) == {os.SCHED_IDLE}


def test_a_worker_runs_at_normal_priority_by_default(start_celery_worker):
    wait_until = start_celery_worker(pool="threads")
    _running_a_task(wait_until)
    assert _policies(wait_until.proc.pid) == {os.SCHED_OTHER}
