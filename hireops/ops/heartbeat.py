"""Workers and beat say they are alive: a row each, refreshed every ``EVERY`` seconds.

A thread of the worker's (or beat's) main process writes the row, so a worker busy with
long tasks still beats; a process killed without a chance to clean up stops beating and is
reported after ``STALE``. Celery's own pings need the broker's broadcast and answer only
while the status command waits; a row is readable by any process, any time.
"""

import atexit
import logging
import os
import socket
import threading
from datetime import timedelta

from celery import signals
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

log = logging.getLogger(__name__)

EVERY = 30  # seconds
STALE = timedelta(seconds=3 * EVERY)
# A worker runs no alerts in its first seconds (settings.HEARTBEAT_START_GRACE_SECONDS): the
# processes started with it (beat, by ./dev run or a deploy) write their first heartbeat a
# moment after it, and one judged missing then would open an incident that stays until the next
# run, a minute later.

_stop = threading.Event()
_wake = threading.Event()  # poke(): write the row now (a listener's state changed)
# The worker is shutting down: it finishes its tasks and still beats, but judges nothing.
# Its peers are usually stopping with it (a deploy, Ctrl-C on ./dev run), and a beat gone a
# second earlier would open an incident that outlives the restart.
_leaving = threading.Event()


FORGET_AFTER = timedelta(days=1)  # a row of a process that died without cleaning up


def beat_once(name: str, kind: str, queues: str, started_at, state=None) -> None:
    """``state``: (text, since) of a process that has one (the long-connection listener)."""
    from .models import ProcessHeartbeat

    now = timezone.now()
    defaults = {"kind": kind, "queues": queues, "started_at": started_at, "seen_at": now}
    if state is not None:
        defaults["state"], defaults["state_since"] = state[0][:200], state[1]
    ProcessHeartbeat.objects.update_or_create(name=name, defaults=defaults)
    ProcessHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def _run(name: str, kind: str, queues: str, state) -> None:
    started_at = timezone.now()
    first = True
    while True:
        close_old_connections()
        try:
            beat_once(name, kind, queues, started_at, state() if state else None)
        except DatabaseError as exc:  # the database is down: the status says so by the row's age
            log.warning("heartbeat of %s not recorded: %s", name, type(exc).__name__)
            connection.close()
        if kind == "worker" and not first:
            _alerts()
        _wake.wait(settings.HEARTBEAT_START_GRACE_SECONDS if first and kind == "worker" else EVERY)
        _wake.clear()
        first = False
        if _stop.is_set():
            break
    _forget(name)


def _alerts() -> None:
    """Workers take turns running the alerts (hireops.ops.alerts): not a beat schedule,
    because a beat that stopped must be alerted on too."""
    from . import alerts

    if _leaving.is_set():
        return
    try:
        if alerts.due():
            alerts.alerts_run()
    except Exception:
        log.exception("the alerts could not run")
        connection.close()


def _forget(name: str) -> None:
    from .models import ProcessHeartbeat

    try:
        ProcessHeartbeat.objects.filter(name=name).delete()
    except DatabaseError:
        pass
    finally:
        connection.close()


def start(name: str, kind: str, queues: str = "", state=None) -> threading.Thread:
    """``state``: a callable returning (text, since) written with each beat."""
    _stop.clear()
    _wake.clear()
    thread = threading.Thread(target=_run, args=(name, kind, queues, state), name="heartbeat", daemon=True)
    thread.start()
    return thread


def poke() -> None:
    """Write the row now instead of at the next beat."""
    _wake.set()


def stop(threads, timeout: float = 5.0) -> None:
    _stop.set()
    _wake.set()
    for thread in threads:
        thread.join(timeout)


_threads: list[threading.Thread] = []


@signals.worker_ready.connect
def _worker_ready(sender=None, **kwargs):
    queues = ",".join(sorted(q.name for q in sender.app.amqp.queues.consume_from.values()))
    _leaving.clear()
    _threads.append(start(sender.hostname, "worker", queues))


@signals.worker_shutting_down.connect
def _worker_leaving(sender=None, **kwargs):
    _leaving.set()


@signals.beat_init.connect
def _beat_init(sender=None, **kwargs):
    _threads.append(start(f"beat@{socket.gethostname()}:{os.getpid()}", "beat"))
    atexit.register(_stopping)  # beat has no shutdown signal; it exits through SystemExit


@signals.worker_shutdown.connect
def _stopping(sender=None, **kwargs):
    stop(_threads)
    _threads.clear()
