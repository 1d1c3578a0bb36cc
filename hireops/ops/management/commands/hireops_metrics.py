"""``manage.py hireops_metrics``: the Prometheus endpoint for this host's processes.

Serves, at ``/metrics`` on ``--bind`` (METRICS_BIND, 127.0.0.1:9108 by default: reachable
from this host only unless you bind it wider), the counters every process of this host wrote
to PROMETHEUS_MULTIPROC_DIR, summed, and the figures read at scrape time
(hireops.ops.collectors). Stops cleanly on SIGTERM.
"""

import signal
import threading

from django.conf import settings
from prometheus_client import CollectorRegistry, start_http_server

from hireops.core.management.base import HireopsCommand
from hireops.ops.collectors import OperationsCollector, ProcessFilesCollector


def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessFilesCollector(registry)
    registry.register(OperationsCollector())
    return registry


class Command(HireopsCommand):
    help = "Serve Prometheus metrics for this host's hireops processes."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.METRICS_BIND, help="host:port (default METRICS_BIND)")

    def handle(self, *args, bind, **options):
        host, _, port = bind.rpartition(":")
        server, thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=registry())
        self.stdout.write(f"metrics at http://{bind}/metrics")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        server.shutdown()
        thread.join(5)
