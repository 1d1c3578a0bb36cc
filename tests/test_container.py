"""The container image's entry point, run for real without Docker (none runs here or in CI).

``docker/entrypoint.sh`` starts each process on the test database and broker, as the image
would: the servers answer, a worker consumes the queues it was given, and SIGTERM (what
``docker stop`` sends) stops each one cleanly within its graceful timeout. The Dockerfile's
own checks, done without building it, are in tests/test_dockerfile.py.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from config.celery import app as celery_app
from tests.conftest import PRODUCTION_ENV, ROOT, free_port, subprocess_env
from tests.test_compose import healthcheck

pytestmark = pytest.mark.processes  # every test here starts one

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
PROBE = ROOT / "docker" / "probe.py"
# What each server's readiness is checked with: its path and the answer meaning "serving".
# Both become ("/readyz", 200) once the health endpoints exist.
ADMIN_PROBE = ("/readyz", 200)
INGEST_PROBE = ("/readyz", 200)
GRACEFUL_TIMEOUT = 10  # seconds; compose gives 30 (GRACEFUL_TIMEOUT) and stops after 40


class Process:
    """A process the entry point started, with its log and a SIGTERM stop."""

    def __init__(self, proc: subprocess.Popen, log_path: Path):
        self.proc, self.log_path = proc, log_path

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged; log:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def wait_for_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nothing listens on {port}; log:\n{self.log()}") from None
                time.sleep(0.1)

    def first_answer(self, url: str, timeout: float = 60.0) -> requests.Response:
        """The first answer to ``url``, asked again (as an orchestrator's probe is) while a
        worker that just booted is still importing the application on a busy machine."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return requests.get(url, timeout=10)
            except (requests.ConnectionError, requests.Timeout):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no answer from {url}; log:\n{self.log()[-4000:]}") from None

    def sigterm(self) -> tuple[int, float]:
        """``docker stop``: SIGTERM, then the exit code and the seconds it took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(GRACEFUL_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after SIGTERM; log:\n{self.log()[-4000:]}") from None
        return code, time.monotonic() - started


def entrypoint_env(tmp_path: Path, **extra) -> dict:
    """The test database and broker, ``python`` on PATH being this virtualenv's, as the image's
    PATH has its virtualenv first; servers on loopback only."""
    return subprocess_env(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        BIND_HOST="127.0.0.1",
        GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        LOG_LEVEL="INFO",
        **extra,
    )


@pytest.fixture
def entrypoint(tmp_path):
    """``entrypoint("admin", PORT="8123")`` starts ``docker/entrypoint.sh admin`` with that
    environment on top of ``entrypoint_env``; whatever is still running at the end is stopped."""
    started = []

    def start(*args: str, **env) -> Process:
        log_path = tmp_path / f"{args[0]}-{len(started)}.log"
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen(
                [str(ENTRYPOINT), *args],
                cwd=tmp_path,  # the entry point finds the application itself
                env=entrypoint_env(tmp_path, **env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for the clean-up below
            )
        started.append(proc)
        return Process(proc, log_path)

    yield start
    for proc in started:  # whatever a failed test left running, children included
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def probe(url: str) -> subprocess.CompletedProcess:
    """The health check compose.yaml runs in the admin and ingest containers."""
    return subprocess.run([sys.executable, str(PROBE), url, "5"], capture_output=True, text=True, timeout=30)


def master_pid(server: Process) -> int:
    """gunicorn logs ``Listening at: URL (PID)`` with its master's pid."""
    return int(re.search(r"Listening at: \S+ \((\d+)\)", server.log()).group(1))


def stopped_cleanly(server: Process) -> None:
    code, took = server.sigterm()
    assert code == 0, server.log()
    assert took < GRACEFUL_TIMEOUT, f"took {took:.1f} s to stop:\n{server.log()[-4000:]}"


def test_admin_serves_behind_the_tls_proxy_and_stops_on_sigterm(
    entrypoint, collected_static, transactional_db
):
    port = free_port()
    admin = entrypoint(
        "admin",
        PORT=str(port),
        STATIC_ROOT=str(collected_static),
        SECURE_PROXY_SSL_HEADER="1",
        **PRODUCTION_ENV,
    )
    admin.wait_for_port(port)
    url = f"http://127.0.0.1:{port}{ADMIN_PROBE[0]}"

    assert admin.first_answer(url).status_code == ADMIN_PROBE[1]
    # Behind the proxy, plain HTTP is sent to https, except the health answers: an
    # orchestrator probes the container directly.
    login = f"http://127.0.0.1:{port}/admin/login/"
    assert requests.get(login, allow_redirects=False, timeout=10).status_code == 301
    checked = probe(url)
    assert checked.returncode == 0, checked.stdout
    # The entry point became gunicorn (exec): docker's SIGTERM reaches the server itself.
    assert master_pid(admin) == admin.proc.pid
    stopped_cleanly(admin)
    assert "Handling signal: term" in admin.log() and "Shutting down: Master" in admin.log()


def test_ingest_server_serves_feishus_pushes_and_stops_on_sigterm(entrypoint, transactional_db):
    port = free_port()
    ingest = entrypoint("ingest", PORT=str(port))
    ingest.wait_for_port(port)
    url = f"http://127.0.0.1:{port}{INGEST_PROBE[0]}"

    assert ingest.first_answer(url).status_code == INGEST_PROBE[1]
    assert "Using worker: hireops.events.ingest_worker.IngestWorker" in ingest.log()
    checked = probe(url)
    assert (checked.returncode == 0) == (INGEST_PROBE[1] == 200), checked.stdout
    assert master_pid(ingest) == ingest.proc.pid
    stopped_cleanly(ingest)


def test_the_probe_calls_a_server_that_does_not_answer_not_ready():
    checked = probe(f"http://127.0.0.1:{free_port()}/readyz")
    assert checked.returncode == 1 and "refused" in checked.stdout.lower()


def consumed_queues(worker: Process) -> set[str]:
    """The queues a worker's start-up banner lists (``.> events  exchange=...``)."""
    return set(re.findall(r"\.> (\S+)\s+exchange=", worker.log()))


def test_a_worker_consumes_the_queues_it_is_given_and_warm_stops(entrypoint, transactional_db, tmp_path):
    celery_app.conf.task_always_eager = False
    worker = entrypoint("worker", WORKER_QUEUES="events,bulk")
    worker.wait_for(" ready.")
    assert consumed_queues(worker) == {"events", "bulk"}

    # A real task reaches it through the routing: Feishu's events go to the events queue.
    celery_app.send_task("events.process_events", args=[[]])
    worker.wait_for("Task events.process_events[")
    worker.wait_for("succeeded")
    # compose.yaml's health check of a worker container, as written there.
    command = healthcheck("worker-events")[1].replace("$$", "$")
    checked = subprocess.run(
        ["sh", "-c", command],
        cwd=ROOT,
        env=entrypoint_env(tmp_path, HOSTNAME=socket.gethostname()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    stopped_cleanly(worker)
    assert "Warm shutdown" in worker.log()


def test_a_worker_without_queues_named_consumes_every_queue(entrypoint, transactional_db):
    worker = entrypoint("worker")
    worker.wait_for(" ready.")
    assert consumed_queues(worker) == set(settings.CELERY_TASK_QUEUES)
    stopped_cleanly(worker)


def test_beat_starts_and_stops_on_sigterm(entrypoint, transactional_db, tmp_path):
    # Its own broker folder: what it sends is for no worker of this test run.
    beat = entrypoint("beat", CELERY_BROKER_URL="filesystem://", HIREOPS_VAR_DIR=str(tmp_path / "var"))
    beat.wait_for("beat: Starting...")
    # compose.yaml's health check of the beat container, on this process instead of pid 1.
    command = healthcheck("beat")[-1].replace("/proc/1/", f"/proc/{beat.proc.pid}/")
    assert subprocess.run([sys.executable, "-c", command], timeout=10).returncode == 0
    stopped_cleanly(beat)


@contextlib.contextmanager
def table_locked(table: str):
    """``table`` locked by another session until the block ends: whoever reads it waits."""
    import psycopg
    from django.db import connection

    with psycopg.connect(**connection.get_connection_params()) as locker:
        locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            locker.rollback()


def waiting_on_a_lock(timeout: float = 30.0) -> None:
    """Returns once a session of the test database waits on a lock."""
    import psycopg
    from django.db import connection

    deadline = time.monotonic() + timeout
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as watch:
        query = (
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        while not watch.execute(query).fetchone():
            assert time.monotonic() < deadline, "nothing waits on the lock"
            time.sleep(0.05)


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="holds a PostgreSQL lock beat's query waits on",
)
@pytest.mark.parametrize(
    "table",
    [
        "django_celery_beat_periodictask",  # read while beat builds its schedule
        "django_celery_beat_periodictasks",  # read on its first tick, inside its loop
    ],
)
def test_beat_stops_on_a_sigterm_that_lands_in_a_query(entrypoint, transactional_db, tmp_path, table):
    # Celery's own handler saved the schedule from inside the signal, on the connection the
    # interrupted query held: beat waited for itself until docker's SIGKILL.
    with table_locked(table):
        beat = entrypoint("beat", CELERY_BROKER_URL="filesystem://", HIREOPS_VAR_DIR=str(tmp_path / "var"))
        waiting_on_a_lock()
        stopped_cleanly(beat)
    assert "Traceback" not in beat.log() and "error" not in beat.log().lower(), beat.log()


def test_migrate_refuses_the_public_development_key_then_migrates_with_a_real_one(
    entrypoint, transactional_db
):
    refused = entrypoint("migrate", DEBUG="0", SECRET_KEY=settings.DEV_SECRET_KEY)
    assert refused.proc.wait(60) != 0
    assert "hireops.E001" in refused.log() and "Operations to perform" not in refused.log()

    migrated = entrypoint("migrate", **PRODUCTION_ENV)
    assert migrated.proc.wait(120) == 0, migrated.log()
    assert "No migrations to apply" in migrated.log()
