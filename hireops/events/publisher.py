"""Queue stored events to Celery: ``queue_events`` now, or ``publisher`` in the background.

Publishing a Celery message costs more CPU than everything else a webhook request does
(kombu builds a Redis client per publish), and costs the same for one event or a
hundred. So the webhook only hands the primary key over: a thread of the web process
collects keys for up to ``LINGER`` seconds and publishes them as one
``events.process_events`` message. Processing starts at most that much later; the
answer to Feishu does not wait for it.

Nothing is lost if the process dies before publishing or the broker is down: the row
is already committed as ``pending``, and the sweep queues it (``services.events_sweep``).
"""

import atexit
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable

from django.db import connections

from hireops.core.task_names import task_named

log = logging.getLogger(__name__)

MAX_BATCH = 100
LINGER = 0.05


def queue_events(pks: Iterable[int]) -> int:
    """Publish ``events.process_events`` messages of up to MAX_BATCH keys; returns how
    many keys were queued. A broker that is down is logged, not raised: the rows are
    committed, and the sweep queues them later."""
    process_events = task_named("events.process_events")

    pks = list(pks)
    queued = 0
    for i in range(0, len(pks), MAX_BATCH):
        chunk = pks[i : i + MAX_BATCH]
        try:
            # retry=False: a broker that is down must not hold anyone up.
            process_events.apply_async(args=(chunk,), retry=False)
        except Exception as exc:
            log.warning(
                "%d event(s) stored but not queued (%s); the sweep will queue them",
                len(pks) - queued,
                type(exc).__name__,
            )
            break
        queued += len(chunk)
    return queued


class BatchPublisher:
    def __init__(self, send=queue_events, linger: float = LINGER):
        self._send, self._linger = send, linger
        self._pending: deque[int] = deque()
        self._cv = threading.Condition()
        self._sending = False
        self._hurry = False  # flush(): stop lingering
        self._pid: int | None = None  # the thread belongs to the process that started it (gunicorn forks)
        self._thread: threading.Thread | None = None

    def submit(self, pk: int) -> None:
        with self._cv:
            if self._pid != os.getpid() or not self._thread.is_alive():  # type: ignore[union-attr]  # ours once _pid is
                self._start()
            self._pending.append(pk)
            # Wake the thread when it waits for a first key or for a full batch only: a
            # wake-up per key (to find the batch not full yet) cost the listener 6 % of its CPU.
            if len(self._pending) in (1, MAX_BATCH):
                self._cv.notify_all()

    def warm(self) -> None:
        """Load what the first publish would load (the task, Celery's message machinery and the
        broker's transport) and connect to the broker once, so the first deliveries do not pay
        for it. A broker that is down is only logged: deliveries are stored all the same, and
        the sweep queues them."""
        process_events = task_named("events.process_events")

        try:
            with process_events.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=0, timeout=2)  # one try, no waiting
        except Exception as exc:
            log.warning("event publisher: broker not reachable at start (%s)", type(exc).__name__)

    def flush(self, timeout: float = 10.0) -> bool:
        """Publish what is waiting now and wait for it; False if that took over ``timeout``."""
        with self._cv:
            if self._pid != os.getpid():
                return True
            self._hurry = True
            self._cv.notify_all()
            done = self._cv.wait_for(lambda: not self._pending and not self._sending, timeout)
            self._hurry = False
            return done

    def _start(self) -> None:
        if self._pid != os.getpid():
            self._pending.clear()  # a parent process's keys are the parent's to publish
        self._sending = self._hurry = False
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._pending)
                self._cv.wait_for(lambda: len(self._pending) >= MAX_BATCH or self._hurry, self._linger)
                batch = [self._pending.popleft() for _ in range(min(len(self._pending), MAX_BATCH))]
                self._sending = True
            try:
                self._send(batch)
            except Exception:  # the rows are committed: the sweep queues what this missed
                log.exception("publishing %d event(s) failed", len(batch))
            finally:
                # With CELERY_TASK_ALWAYS_EAGER the tasks ran here, on this thread's own
                # connection: close it. Otherwise this thread opened none.
                connections.close_all()
                with self._cv:
                    self._sending = False
                    self._cv.notify_all()


publisher = BatchPublisher()
atexit.register(publisher.flush, 2.0)
