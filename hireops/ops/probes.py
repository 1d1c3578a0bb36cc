"""Readiness probes: can this process reach what it needs to do its job?

Each probe runs on its own single thread with a deadline, so a dependency that hangs (a
database behind a dead firewall, a broker that accepts and never answers) makes ``/readyz``
answer "not ready" on time instead of hanging the orchestrator's check. A probe still stuck
from an earlier check is not started twice: it answers "still waiting" at once, so a hung
dependency costs one thread per probe, never one per request.

Details name the error's type only: a driver's message can carry a host, a user or a URL
with its password.
"""

import contextlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings

TIMEOUT = 2.0  # seconds; an orchestrator's probe usually gives up after 1–5


@dataclass(frozen=True)
class ProbeResult:
    name: str
    ok: bool
    detail: str = ""
    ms: float = 0.0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)}


def database() -> None:
    from django.db import connection

    connection.close_if_unusable_or_obsolete()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        connection.close()  # the next probe starts on a fresh connection
        raise


def cache() -> None:
    from django.core.cache import cache as shared

    shared.set("ops:probe", 1, 30)
    if shared.get("ops:probe") != 1:
        raise RuntimeError("the cache did not keep a value")


def broker() -> None:
    from celery import current_app as app  # hireops' app (config/__init__.py makes it current)

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT)  # type: ignore[arg-type]  # kombu takes float seconds


def coordination() -> None:
    from hireops.feishu import get_coordinator

    with get_coordinator(settings.FEISHU_COORDINATION_URL).lock("ops-probe", timeout=2.0, wait=TIMEOUT):
        pass


STANDARD = {"database": database, "cache": cache, "broker": broker, "coordination": coordination}


class Prober:
    """Runs named probes, each on its own thread, with one deadline for all."""

    def __init__(self, probes: dict, timeout: float = TIMEOUT):
        self._probes, self._timeout = probes, timeout
        self._executors = {name: ThreadPoolExecutor(1, thread_name_prefix=f"probe-{name}") for name in probes}
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()

    def run(self) -> list[ProbeResult]:
        started = time.monotonic()
        futures: dict[str, Future | None] = {}
        with self._lock:
            for name, probe in self._probes.items():
                running = self._running.get(name)
                if running is not None and not running.done():
                    futures[name] = None  # hung since an earlier check
                else:
                    futures[name] = self._running[name] = self._executors[name].submit(_timed, probe)
        deadline = started + self._timeout
        return [self._result(name, future, deadline) for name, future in futures.items()]

    def close(self) -> None:
        """Close each probe thread's database connection and stop the threads (tests; a
        server process just exits)."""
        from django.db import connection

        for executor in self._executors.values():
            with contextlib.suppress(Exception):
                executor.submit(connection.close).result(self._timeout)
            executor.shutdown(wait=False)

    @staticmethod
    def _result(name: str, future: Future | None, deadline: float) -> ProbeResult:
        if future is None:
            return ProbeResult(name, False, "still waiting on an earlier check")
        try:
            ms, error = future.result(max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            return ProbeResult(name, False, "timed out", TIMEOUT * 1000)
        return ProbeResult(name, error is None, error or "", ms)


def _timed(probe) -> tuple[float, str | None]:
    started = time.monotonic()
    try:
        probe()
    except Exception as exc:
        return (time.monotonic() - started) * 1000, type(exc).__name__
    return (time.monotonic() - started) * 1000, None


_prober: tuple[int, Prober] | None = None
_prober_lock = threading.Lock()


def readiness() -> list[ProbeResult]:
    """The standard probes, by this process's prober (built on first use; threads do not
    survive a fork, so a forked child builds its own)."""
    global _prober
    with _prober_lock:
        if _prober is None or _prober[0] != os.getpid():
            _prober = (os.getpid(), Prober(STANDARD))
        prober = _prober[1]
    return prober.run()


def close() -> None:
    global _prober
    with _prober_lock:
        if _prober is not None:
            _prober[1].close()
        _prober = None


def report(results: list[ProbeResult], extra: dict | None = None) -> tuple[int, dict]:
    """The HTTP status and JSON body of a readiness answer."""
    checks = {r.name: r.as_dict() for r in results} | (extra or {})
    ready = all(c["ok"] for c in checks.values())
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", "checks": checks}
