"""Figures read at scrape time by ``manage.py hireops_metrics``: the status checks as gauges,
the broker's queue depths, the inbox's backlog, the background jobs' remaining items and the
long-connection listeners (from their heartbeat rows, written at once when a link changes).

Read once per scrape (Prometheus scrapes every 15–60 s): a handful of indexed queries and one
passive queue declaration per queue, each through the database connection of the scrape's
own thread, closed when the scrape is done.
"""

import contextlib
import glob
import logging
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

# Gauges the platform's other packages add (the inbox's backlog, the jobs' remaining items):
# each a function yielding metric families, registered from its AppConfig.ready().
GAUGES: list[Callable[[], Iterable]] = []


class ProcessFilesCollector(multiprocess.MultiProcessCollector):
    """The counters every process wrote to PROMETHEUS_MULTIPROC_DIR, summed, as
    prometheus-client's collector reads them, but a file too short to hold its header is
    skipped: a process killed between creating its file and sizing it leaves one empty, and
    the library's collector then fails the whole scrape until someone deletes it."""

    def collect(self):
        return self.merge(
            [f for f in glob.glob(os.path.join(self._path, "*.db")) if _sized(f)], accumulate=True
        )


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) >= 8  # the used length (4 bytes) and its padding
    except OSError:  # gone since the listing (its process's files were cleaned up)
        return False


def register_gauges(gauges: Callable[[], Iterable]) -> None:
    if gauges not in GAUGES:
        GAUGES.append(gauges)


class OperationsCollector:
    def collect(self):
        try:
            yield from self._status()
            yield from self._queues()
            for gauges in GAUGES:
                yield from gauges()
            yield from self._listeners()
        finally:
            connection.close()

    def describe(self):
        return []  # collected at scrape time only; nothing to check at registration

    @staticmethod
    def _status():
        from . import report

        found = report.build()
        ok = GaugeMetricFamily(
            "hireops_status_ok", "1 while a status check is fine, 0 while it needs a person", labels=["check"]
        )
        value = GaugeMetricFamily(
            "hireops_status_value",
            "What a status check counts (rows waiting or failed, endpoints disabled…)",
            labels=["check"],
        )
        for finding in found.findings:
            ok.add_metric([finding.key], 1 if finding.ok else 0)
            number = _number(finding.value)
            if number is not None:
                value.add_metric([finding.key], number)
        yield ok
        yield value
        yield GaugeMetricFamily(
            "hireops_status_exit_code", "What manage.py hireops_status would exit with", value=found.exit_code
        )

    @staticmethod
    def _queues():
        from celery import current_app as app  # hireops' app (config/__init__.py makes it current)

        depth = GaugeMetricFamily(
            "hireops_queue_messages", "Messages waiting in each Celery queue", labels=["queue"]
        )
        try:
            with app.connection_for_read() as conn:
                for queue in settings.CELERY_TASK_QUEUES:
                    depth.add_metric([queue], _messages(conn, queue))
        except Exception as exc:  # the broker is down: the status gauges say so
            log.warning("queue depths not read: %s", type(exc).__name__)
        yield depth

    @staticmethod
    def _listeners():
        from .heartbeat import STALE
        from .link_state import CONNECTED
        from .models import ProcessHeartbeat, ProcessKind

        alive = ProcessHeartbeat.objects.filter(
            kind=ProcessKind.LISTENER, seen_at__gte=timezone.now() - STALE
        )
        connected = sum(state == CONNECTED for state in alive.values_list("state", flat=True))
        gauge = GaugeMetricFamily(
            "hireops_longconn_listeners",
            "Long-connection listeners alive, by whether they hold their connection to Feishu",
            labels=["state"],
        )
        gauge.add_metric(["connected"], connected)
        gauge.add_metric(["disconnected"], alive.count() - connected)
        yield gauge


def _number(value) -> float | None:
    """A finding's value as a number: a count, or a capped one ("1,000+") as its floor."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace(",", "").removesuffix("+")
    return float(text) if text.isdigit() else None


def _messages(conn, queue: str) -> int:
    """Messages waiting in ``queue``; 0 for a queue nothing was sent to yet (a passive
    declare of a missing queue is refused, and closes its channel: one channel each)."""
    channel = conn.channel()
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except conn.channel_errors:  # the transport's own "not found" (AMQP 404, Redis, …)
        return 0
    finally:
        with contextlib.suppress(Exception):
            channel.close()
